//! The client and the extraction loop: build the request for the mode, send it
//! (retrying transport failures with backoff), read and validate the answer, and
//! re-ask with the errors addressed by field path until the value is valid or the
//! retries, the deadline or the token budget run out.

mod error;
mod hooks;
mod retry;
mod streaming;

pub use error::{Attempt, Error, Ledger};
pub use hooks::{HookEvent, Hooks};
pub use retry::RetryPolicy;
pub use streaming::PartialUpdate;

use crate::chat::{
    ChatRequest, ChatResponse, FinishReason, GenerationParams, Message, Mode, OutputSpec, Provider,
    ProviderError, ToolCall,
};
use crate::extract::{Extract, from_json_str};
use crate::schema::Dialect;
use crate::validate::{AsyncValidator, Context, ValidationErrors};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// A client: a provider plus the defaults every extraction starts from. Cheap to
/// clone (the provider is shared).
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
    /// A client over `provider`, in `Tools` mode, with one re-ask.
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

    /// Starts an extraction of a `T`.
    pub fn extract<T: Extract>(&self) -> Extraction<'_, T> {
        Extraction {
            client: self,
            model: self.model.clone(),
            mode: self.mode,
            messages: Vec::new(),
            params: GenerationParams::default(),
            extra: serde_json::Map::new(),
            max_retries: self.max_retries,
            timeout: self.timeout,
            max_total_tokens: None,
            context: Context::new(),
            validators: Vec::new(),
            hooks: self.hooks.clone(),
            reask: Arc::new(default_reask),
            retry_truncated_with: None,
        }
    }
}

/// The re-ask text: what the model is told when its answer failed.
pub type ReaskText = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The default re-ask text, given the errors (one per line, with field paths).
pub fn default_reask(errors: &str) -> String {
    format!(
        "Your previous answer was not valid. Fix these errors and answer again with the corrected value only:\n{errors}"
    )
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

/// One extraction being built; `.await` it for the value, or call
/// [`Extraction::with_completion`] for the value with its ledger.
#[must_use = "an extraction does nothing until awaited"]
pub struct Extraction<'c, T: Extract> {
    client: &'c Client,
    model: Option<String>,
    mode: Mode,
    messages: Vec<Message>,
    params: GenerationParams,
    extra: serde_json::Map<String, serde_json::Value>,
    max_retries: u32,
    timeout: Option<Duration>,
    max_total_tokens: Option<u64>,
    context: Context,
    validators: Vec<Arc<dyn AsyncValidator<T>>>,
    hooks: Hooks,
    reask: ReaskText,
    retry_truncated_with: Option<u32>,
}

impl<'c, T: Extract> Extraction<'c, T> {
    /// The model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Adds a system message.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::system(text));
        self
    }

    /// Adds a user message.
    pub fn user(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::user(text));
        self
    }

    /// Adds an assistant message.
    pub fn assistant(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::assistant(text));
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

    /// A hard deadline across all attempts.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Stops before an attempt once this many tokens are used.
    pub fn max_total_tokens(mut self, budget: u64) -> Self {
        self.max_total_tokens = Some(budget);
        self
    }

    /// The context validators see.
    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
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
    pub async fn with_completion(self) -> Result<Completion<T>, Error> {
        let model = self.model.clone().unwrap_or_default();
        let span = tracing::info_span!(
            "gen_ai.extract",
            gen_ai.operation.name = "chat",
            gen_ai.system = self.client.provider.name(),
            gen_ai.request.model = %model,
            gen_ai.output.type = %T::name(),
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
        );
        run(self).instrument(span).await
    }
}

impl<'c, T: Extract> IntoFuture for Extraction<'c, T> {
    type Output = Result<T, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.with_completion().await.map(|done| done.value) })
    }
}

/// The tools of [`Mode::ParallelTools`]: the output is a list of an externally tagged
/// enum, and each variant holding data is one tool whose call is one item.
pub(crate) fn parallel_tools(
    root: &crate::schema::RootSchema,
) -> Result<Vec<crate::chat::ToolSpec>, Error> {
    use crate::schema::{RootSchema, SchemaKind};
    let invalid = || {
        Error::InvalidRequest {
        reason: "ParallelTools needs a Vec of an enum whose variants hold each tool's arguments (`Vec<Action>` with `enum Action { Search(Search), Lookup(Lookup) }`)".to_owned(),
    }
    };
    let SchemaKind::Array(array) = &root.schema.kind else {
        return Err(invalid());
    };
    let resolve = |schema: &crate::schema::Schema| -> crate::schema::Schema {
        match &schema.kind {
            SchemaKind::Ref(name) => root
                .resolve(name)
                .cloned()
                .unwrap_or_else(|| schema.clone()),
            _ => schema.clone(),
        }
    };
    let item = resolve(&array.items);
    let branches = match &item.kind {
        SchemaKind::OneOf(branches) | SchemaKind::AnyOf(branches) => branches.clone(),
        _ => return Err(invalid()),
    };
    let mut tools = Vec::new();
    for branch in &branches {
        let SchemaKind::Object(object) = &branch.kind else {
            continue;
        };
        let Some((name, property)) = object.properties.iter().next() else {
            continue;
        };
        let schema = resolve(&property.schema);
        tools.push(crate::chat::ToolSpec {
            name: sanitize_name(name),
            description: schema
                .description
                .clone()
                .or_else(|| branch.description.clone()),
            schema: std::sync::Arc::new(RootSchema {
                schema,
                defs: root.defs.clone(),
                root_name: None,
            }),
        });
    }
    if tools.is_empty() {
        return Err(invalid());
    }
    Ok(tools)
}

/// The system prompt of the prompted modes: the schema, and how to answer.
fn schema_prompt(spec: &OutputSpec) -> Result<String, Error> {
    let schema = spec
        .schema
        .render(Dialect::JsonSchema)
        .map_err(|e| Error::InvalidRequest {
            reason: e.to_string(),
        })?;
    let schema = serde_json::to_string_pretty(&schema).unwrap_or_default();
    let format = if spec.mode == Mode::MdJson {
        "inside a ```json code block"
    } else {
        "as a JSON object and nothing else"
    };
    Ok(format!(
        "Answer with an instance of the JSON Schema below (the data, not the schema), {format}.\n\n{schema}"
    ))
}

/// What the answer holds, by mode: the tool call's arguments, or the text.
fn answer_text(
    mode: Mode,
    name: &str,
    response: &ChatResponse,
) -> Result<(String, Option<ToolCall>), String> {
    if mode.uses_tools() {
        match response.tool_calls.as_slice() {
            [call] if mode == Mode::ParallelTools => Ok((
                parallel_items(std::slice::from_ref(call)),
                Some(call.clone()),
            )),
            [call] => Ok((call.arguments.clone(), Some(call.clone()))),
            [] => Err(match &response.text {
                Some(text) if !text.trim().is_empty() => {
                    format!("the answer was prose instead of a call of the `{name}` tool: {text:?}")
                }
                _ => format!("the answer was empty instead of a call of the `{name}` tool"),
            }),
            calls if mode == Mode::ParallelTools => {
                Ok((parallel_items(calls), calls.first().cloned()))
            }
            calls => Err(format!(
                "{} tool calls arrived where one call of `{name}` was asked for",
                calls.len()
            )),
        }
    } else {
        match &response.text {
            Some(text) if !text.trim().is_empty() => Ok((text.clone(), None)),
            _ => Err("the answer was empty".to_owned()),
        }
    }
}

/// The calls of a parallel-tools answer as the list they stand for: each call one item
/// of the enum, tagged with its tool's name (`[{"Search": {...}}, {"Lookup": {...}}]`).
pub(crate) fn parallel_items(calls: &[ToolCall]) -> String {
    let items: Vec<String> = calls
        .iter()
        .map(|call| {
            let name = serde_json::Value::String(call.name.clone());
            format!("{{{name}: {}}}", call.arguments)
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// Reads the value from the answer's JSON text, the way the mode calls for (strictly
/// for constrained modes, leniently for prompted ones). Validation comes after.
fn read_value<T: Extract>(mode: Mode, text: &str) -> Result<T, String> {
    let text = text.trim();
    if mode.is_prompted() {
        return crate::stream::read_lenient::<T>(text)
            .map(|read| read.value)
            .map_err(|e| e.to_string());
    }
    if wraps_root::<T>(mode) {
        let value: serde_json::Value = from_json_str(text).map_err(|e| e.to_string())?;
        let inner = match value {
            serde_json::Value::Object(mut map) => map
                .remove(crate::schema::dialect::WRAPPED_ROOT_PROPERTY)
                .ok_or_else(|| "missing field `value`".to_owned())?,
            _ => return Err("expected an object with a `value` field".to_owned()),
        };
        return crate::extract::from_json_value(inner).map_err(|e| e.to_string());
    }
    from_json_str(text).map_err(|e| e.to_string())
}

/// Whether the provider's dialect wrapped a non-object root in `{"value": ...}`.
pub(crate) fn wraps_root<T: Extract>(mode: Mode) -> bool {
    let root = T::root_schema();
    let is_object = matches!(root.schema.kind, crate::schema::SchemaKind::Object(_));
    !is_object && matches!(mode, Mode::Tools | Mode::ToolsStrict | Mode::JsonSchema)
}

/// The neutral request for an output spec: the model checked, the mode checked against
/// the provider's capabilities (nothing is sent for an impossible mode), the schema
/// prompt added for prompted modes.
pub(crate) fn build_request(
    provider: &dyn Provider,
    model: Option<String>,
    mut messages: Vec<Message>,
    spec: OutputSpec,
    params: GenerationParams,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Result<ChatRequest, Error> {
    let model = model.ok_or_else(|| Error::InvalidRequest {
        reason: "no model: set one on the client or the extraction".to_owned(),
    })?;
    if let Err(reason) = provider.capabilities(&model).check(spec.mode) {
        return Err(Error::UnsupportedMode {
            mode: spec.mode,
            reason,
        });
    }
    if spec.mode.is_prompted() {
        messages.insert(0, Message::system(schema_prompt(&spec)?));
    }
    Ok(ChatRequest {
        model,
        messages,
        output: Some(spec),
        params,
        extra,
    })
}

async fn run<T: Extract>(extraction: Extraction<'_, T>) -> Result<Completion<T>, Error> {
    let Extraction {
        client,
        model,
        mode,
        messages,
        params,
        extra,
        max_retries,
        timeout,
        max_total_tokens,
        context,
        validators,
        hooks,
        reask,
        retry_truncated_with,
    } = extraction;
    let started = Instant::now();
    let deadline = timeout.map(|t| started + t);
    let provider = client.provider.as_ref();
    let spec = OutputSpec {
        mode,
        schema: T::root_schema(),
        name: sanitize_name(&T::name()),
        description: T::description().map(|d| d.into_owned()),
        tools: if mode == Mode::ParallelTools {
            parallel_tools(&T::root_schema())?
        } else {
            Vec::new()
        },
    };
    let mut request = build_request(provider, model, messages, spec, params, extra)?;
    let mut ledger = Ledger::default();
    let attempts = max_retries + 1;
    let mut number = 0;
    loop {
        number += 1;
        if let Some(limit) = max_total_tokens {
            let used = ledger.total_usage.total();
            if used >= limit {
                return Err(Error::BudgetExhausted {
                    used,
                    limit,
                    ledger,
                });
            }
        }
        if number == attempts {
            hooks.emit(&HookEvent::LastAttempt { attempt: number });
        }
        if hooks.is_active() {
            let body = provider.wire_body(&request);
            hooks.emit(&HookEvent::Request {
                attempt: number,
                request: &request,
                body: body.as_ref(),
            });
        }
        let attempt_started = Instant::now();
        let attempt_span = tracing::info_span!(
            "gen_ai.attempt",
            gen_ai.request.model = %request.model,
            instructor.attempt = number,
            gen_ai.response.id = tracing::field::Empty,
            gen_ai.response.finish_reasons = tracing::field::Empty,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
        );
        let sent = send(provider, &request, &client.retry, deadline, &hooks, number)
            .instrument(attempt_span.clone())
            .await;
        let (response, transport_retries) = match sent {
            Ok(done) => done,
            Err(SendError::Provider(error, retries)) => {
                ledger.attempts.push(Attempt {
                    number,
                    request_id: None,
                    latency: attempt_started.elapsed(),
                    usage: None,
                    transport_retries: retries,
                    raw_output: None,
                    error: Some(error.to_string()),
                });
                let error = Error::Provider {
                    error: Box::new(error),
                    ledger,
                };
                hooks.emit(&HookEvent::Error { error: &error });
                return Err(error);
            }
            Err(SendError::Deadline) => {
                let error = Error::Timeout {
                    elapsed: started.elapsed(),
                    ledger,
                };
                hooks.emit(&HookEvent::Error { error: &error });
                return Err(error);
            }
        };
        hooks.emit(&HookEvent::Response {
            attempt: number,
            response: &response,
        });
        if let Some(id) = &response.request_id {
            attempt_span.record("gen_ai.response.id", id.as_str());
        }
        if let Some(reason) = &response.finish_reason {
            attempt_span.record("gen_ai.response.finish_reasons", format!("{reason:?}"));
        }
        if let Some(usage) = &response.usage {
            attempt_span.record("gen_ai.usage.input_tokens", usage.input_tokens);
            attempt_span.record("gen_ai.usage.output_tokens", usage.output_tokens);
        }
        if let Some(usage) = &response.usage {
            ledger.total_usage.add(usage);
            hooks.emit(&HookEvent::Usage {
                attempt: number,
                usage,
                total: &ledger.total_usage,
            });
        }
        let span = tracing::Span::current();
        span.record("gen_ai.usage.input_tokens", ledger.total_usage.input_tokens);
        span.record(
            "gen_ai.usage.output_tokens",
            ledger.total_usage.output_tokens,
        );
        let name = request
            .output
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let answer = answer_text(mode, &name, &response);
        let raw = answer.as_ref().ok().map(|(text, _)| text.clone());
        let mut attempt = Attempt {
            number,
            request_id: response.request_id.clone(),
            latency: attempt_started.elapsed(),
            usage: response.usage,
            transport_retries,
            raw_output: raw.clone().or_else(|| response.text.clone()),
            error: None,
        };

        if response.finish_reason == Some(FinishReason::Length)
            && let Some(larger) =
                retry_truncated_with.filter(|m| request.params.max_tokens < Some(*m))
        {
            attempt.error = Some("truncated; retrying with a larger max_tokens".to_owned());
            ledger.attempts.push(attempt);
            request.params.max_tokens = Some(larger);
            hooks.emit(&HookEvent::Retry {
                attempt: number,
                reason: "truncated",
            });
            continue;
        }
        // Answers that re-asking cannot fix end the extraction at once.
        if let Some(error) = terminal_error(&response, raw.clone(), &mut attempt) {
            ledger.attempts.push(attempt);
            return fail(&hooks, error(ledger));
        }

        let outcome = match &answer {
            Err(message) => Err(Failure::Parse(message.clone())),
            Ok((text, _)) => match read_value::<T>(mode, text) {
                Err(message) => Err(Failure::Parse(message)),
                Ok(value) => {
                    // Async validators (LLM-backed ones) are bound by the deadline too.
                    let validation = crate::validate::validate_all(&value, &context, &validators);
                    let validated = match deadline {
                        Some(deadline) => {
                            tokio::time::timeout_at(deadline.into(), validation).await
                        }
                        None => Ok(validation.await),
                    };
                    match validated {
                        Ok(Ok(())) => Ok(value),
                        Ok(Err(errors)) => Err(Failure::Validation(errors)),
                        Err(_) => {
                            attempt.error = Some("timed out in validation".to_owned());
                            ledger.attempts.push(attempt);
                            return fail(
                                &hooks,
                                Error::Timeout {
                                    elapsed: started.elapsed(),
                                    ledger,
                                },
                            );
                        }
                    }
                }
            },
        };
        match outcome {
            Ok(value) => {
                ledger.attempts.push(attempt);
                return Ok(Completion {
                    value,
                    response,
                    ledger,
                });
            }
            Err(failure) => {
                let text = failure.to_string();
                attempt.error = Some(text.clone());
                ledger.attempts.push(attempt);
                match &failure {
                    Failure::Parse(message) => hooks.emit(&HookEvent::ParseError {
                        attempt: number,
                        message,
                    }),
                    Failure::Validation(errors) => hooks.emit(&HookEvent::ValidationError {
                        attempt: number,
                        errors,
                    }),
                }
                if number >= attempts {
                    let error = match failure {
                        Failure::Parse(message) => Error::Parse {
                            message,
                            raw_output: raw,
                            ledger,
                        },
                        Failure::Validation(errors) => Error::Validation {
                            errors,
                            raw_output: raw,
                            ledger,
                        },
                    };
                    return fail(&hooks, error);
                }
                hooks.emit(&HookEvent::Retry {
                    attempt: number,
                    reason: "invalid answer",
                });
                append_reask(
                    &mut request.messages,
                    mode,
                    &answer,
                    &response,
                    &reask(&text),
                );
            }
        }
    }
}

/// Builds an error once the ledger is complete.
pub(crate) type ErrorWithLedger = Box<dyn FnOnce(Ledger) -> Error + Send>;

/// Answers that re-asking cannot fix: a refusal, the content filter, truncation at the
/// token limit (re-asking would be cut again: fail fast).
pub(crate) fn terminal_error(
    response: &ChatResponse,
    raw: Option<String>,
    attempt: &mut Attempt,
) -> Option<ErrorWithLedger> {
    if let Some(text) = response.refusal.clone() {
        attempt.error = Some(format!("refusal: {text}"));
        return Some(Box::new(move |ledger| Error::Refusal { text, ledger }));
    }
    match response.finish_reason {
        Some(FinishReason::Length) => {
            attempt.error = Some("truncated at the token limit".to_owned());
            Some(Box::new(move |ledger| Error::Truncated {
                partial_output: raw,
                ledger,
            }))
        }
        Some(FinishReason::ContentFilter) => {
            attempt.error = Some("content filter".to_owned());
            Some(Box::new(|ledger| Error::ContentFilter { ledger }))
        }
        _ => None,
    }
}

fn fail<T>(hooks: &Hooks, error: Error) -> Result<T, Error> {
    hooks.emit(&HookEvent::Error { error: &error });
    Err(error)
}

/// Why an answer is not a value yet.
enum Failure {
    Parse(String),
    Validation(ValidationErrors),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Parse(message) => f.write_str(message),
            Failure::Validation(errors) => write!(f, "{errors}"),
        }
    }
}

/// The failed answer and the errors, in the shape the mode expects: a tool message
/// answering the call for tool modes, a user message for the others.
fn append_reask(
    messages: &mut Vec<Message>,
    mode: Mode,
    answer: &Result<(String, Option<ToolCall>), String>,
    response: &ChatResponse,
    reask: &str,
) {
    match answer {
        Ok((_, Some(call))) if mode.uses_tools() => {
            messages.push(Message::assistant_tool_calls(response.tool_calls.clone()));
            messages.push(Message::tool(call.id.clone(), reask));
            // Every other call needs an answer too, or the API rejects the history.
            for other in response.tool_calls.iter().filter(|c| c.id != call.id) {
                messages.push(Message::tool(other.id.clone(), reask));
            }
        }
        _ => {
            if !response.tool_calls.is_empty() {
                messages.push(Message::assistant_tool_calls(response.tool_calls.clone()));
                for call in &response.tool_calls {
                    messages.push(Message::tool(call.id.clone(), reask));
                }
            } else {
                let said = response.text.clone().unwrap_or_default();
                messages.push(Message::assistant(said));
                messages.push(Message::user(reask));
            }
        }
    }
}

/// Tool names must match `^[a-zA-Z0-9_-]{1,64}$`.
fn sanitize_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
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

enum SendError {
    Provider(ProviderError, u32),
    Deadline,
}

/// One exchange, transport failures retried with backoff (honouring `retry-after`),
/// never past the deadline.
async fn send(
    provider: &dyn Provider,
    request: &ChatRequest,
    policy: &RetryPolicy,
    deadline: Option<Instant>,
    hooks: &Hooks,
    attempt: u32,
) -> Result<(ChatResponse, u32), SendError> {
    let mut retries = 0;
    loop {
        let call = provider.complete(request);
        let result = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline.into(), call).await {
                Ok(result) => result,
                Err(_) => return Err(SendError::Deadline),
            },
            None => call.await,
        };
        match result {
            Ok(response) => return Ok((response, retries)),
            Err(error) if error.is_retryable() && retries < policy.max_retries => {
                let wait = policy.delay(retries, error.retry_after());
                if let Some(deadline) = deadline
                    && Instant::now() + wait >= deadline
                {
                    return Err(SendError::Deadline);
                }
                hooks.emit(&HookEvent::TransportRetry {
                    attempt,
                    error: &error,
                    wait,
                });
                retries += 1;
                tokio::time::sleep(wait).await;
            }
            Err(error) => return Err(SendError::Provider(error, retries)),
        }
    }
}
