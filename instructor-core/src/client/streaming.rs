//! Streamed extractions: typed partials ending in the validated value (`.partial()`),
//! and finished list items (`.iter()`), over the provider's event stream.

use super::{
    Completion, Error, Extraction, HookEvent, Hooks, Ledger, ReaskText, RetryPolicy, append_reask,
    build_request, sanitize_name, terminal_error,
};
use crate::chat::{
    ChatRequest, ChatResponse, EventStream, FinishReason, Mode, OutputSpec, Provider,
    ProviderError, StreamEvent, ToolCall, Usage,
};
use crate::extract::Extract;
use crate::schema::RootSchema;
use crate::stream::{ItemStream, Limits, PartialStream};
use crate::validate::{AsyncValidator, Context};
use futures_core::Stream;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// One item of a partial extraction stream.
#[derive(Debug)]
pub enum PartialUpdate<T: Extract> {
    /// What has arrived so far (only when something visible changed).
    Partial(T::Partial),
    /// The validated value, with the response and the ledger: the last item.
    Done(Box<Completion<T>>),
}

/// Sends the request as a stream and assembles the response from its events;
/// transport failures (opening, or breaking off mid-stream) are retried from the start
/// with backoff.
struct Driver {
    provider: Arc<dyn Provider>,
    request: ChatRequest,
    policy: RetryPolicy,
    deadline: Option<Instant>,
    started: Instant,
    hooks: Hooks,
    events: Option<EventStream>,
    response: Assembled,
    transport_retries: u32,
    attempt_started: Instant,
}

/// The response built from stream events.
#[derive(Debug, Default)]
struct Assembled {
    text: String,
    refusal: String,
    calls: Vec<(Option<String>, Option<String>, String)>,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    id: Option<String>,
}

impl Assembled {
    fn apply(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta(text) => self.text.push_str(text),
            StreamEvent::RefusalDelta(text) => self.refusal.push_str(text),
            StreamEvent::ToolArgumentsDelta {
                index,
                id,
                name,
                delta,
            } => {
                if self.calls.len() <= *index {
                    self.calls.resize(*index + 1, (None, None, String::new()));
                }
                let call = &mut self.calls[*index];
                if id.is_some() {
                    call.0.clone_from(id);
                }
                if name.is_some() {
                    call.1.clone_from(name);
                }
                call.2.push_str(delta);
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Finish(reason) => self.finish = Some(reason.clone()),
            StreamEvent::ResponseId(id) => self.id = Some(id.clone()),
        }
    }

    fn into_response(self, model: &str) -> ChatResponse {
        let tool_calls = self
            .calls
            .into_iter()
            .enumerate()
            .map(|(index, (id, name, arguments))| ToolCall {
                id: id.unwrap_or_else(|| format!("call_{index}")),
                name: name.unwrap_or_default(),
                arguments,
            })
            .collect();
        ChatResponse {
            text: (!self.text.is_empty()).then_some(self.text),
            tool_calls,
            usage: self.usage,
            finish_reason: self.finish,
            refusal: (!self.refusal.is_empty()).then_some(self.refusal),
            request_id: self.id,
            model: Some(model.to_owned()),
            raw: serde_json::Value::Null,
        }
    }
}

enum Next {
    Event(StreamEvent),
    /// The stream ended (the response is complete).
    End,
    /// The stream was reopened after a transport failure: start reading afresh.
    Restarted,
}

impl Driver {
    /// The ledger with the attempt in flight recorded as failed.
    fn ledger_with_failure(&self, ledger: &Ledger, attempt: u32, error: String) -> Ledger {
        let mut ledger = ledger.clone();
        ledger.attempts.push(super::Attempt {
            number: attempt,
            request_id: self.response.id.clone(),
            latency: self.attempt_started.elapsed(),
            usage: self.response.usage,
            transport_retries: self.transport_retries,
            raw_output: None,
            error: Some(error),
        });
        ledger
    }

    fn timed_out(&self, ledger: &Ledger) -> Error {
        Error::Timeout {
            elapsed: self.started.elapsed(),
            ledger: self.ledger_with_failure(
                ledger,
                ledger.attempts.len() as u32 + 1,
                "timed out".to_owned(),
            ),
        }
    }

    async fn next(&mut self, ledger: &Ledger, attempt: u32) -> Result<Next, Error> {
        loop {
            let Some(events) = &mut self.events else {
                self.open(ledger, attempt).await?;
                continue;
            };
            let next = match self.deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), events.next())
                    .await
                    .map_err(|_| self.timed_out(ledger))?,
                None => events.next().await,
            };
            match next {
                Some(Ok(event)) => {
                    self.response.apply(&event);
                    return Ok(Next::Event(event));
                }
                None => return Ok(Next::End),
                Some(Err(error)) => {
                    self.events = None;
                    self.retry_or_fail(error, ledger, attempt).await?;
                    return Ok(Next::Restarted);
                }
            }
        }
    }

    async fn open(&mut self, ledger: &Ledger, attempt: u32) -> Result<(), Error> {
        loop {
            let call = self.provider.stream(&self.request);
            let result = match self.deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), call)
                    .await
                    .map_err(|_| self.timed_out(ledger))?,
                None => call.await,
            };
            match result {
                Ok(events) => {
                    self.events = Some(events);
                    self.response = Assembled::default();
                    return Ok(());
                }
                Err(error) => self.retry_or_fail(error, ledger, attempt).await?,
            }
        }
    }

    async fn retry_or_fail(
        &mut self,
        error: ProviderError,
        ledger: &Ledger,
        attempt: u32,
    ) -> Result<(), Error> {
        if !error.is_retryable() || self.transport_retries >= self.policy.max_retries {
            let ledger = self.ledger_with_failure(ledger, attempt, error.to_string());
            return Err(Error::Provider {
                error: Box::new(error),
                ledger,
            });
        }
        let wait = self
            .policy
            .delay(self.transport_retries, error.retry_after());
        if let Some(deadline) = self.deadline
            && Instant::now() + wait >= deadline
        {
            return Err(self.timed_out(ledger));
        }
        self.hooks.emit(&HookEvent::TransportRetry {
            attempt,
            error: &error,
            wait,
        });
        self.transport_retries += 1;
        self.response = Assembled::default();
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Ends the attempt: the assembled response, and the driver ready for the next.
    fn take_response(&mut self) -> (ChatResponse, u32, std::time::Duration) {
        self.events = None;
        let response = std::mem::take(&mut self.response).into_response(&self.request.model);
        let retries = std::mem::take(&mut self.transport_retries);
        let latency = self.attempt_started.elapsed();
        self.attempt_started = Instant::now();
        (response, retries, latency)
    }
}

fn record_usage(span: &tracing::Span, ledger: &Ledger) {
    span.record("gen_ai.usage.input_tokens", ledger.total_usage.input_tokens);
    span.record(
        "gen_ai.usage.output_tokens",
        ledger.total_usage.output_tokens,
    );
}

/// The part of an event that carries the answer's JSON text, by mode.
fn payload(mode: Mode, event: &StreamEvent) -> Option<&str> {
    match event {
        StreamEvent::ToolArgumentsDelta {
            index: 0, delta, ..
        } if mode.uses_tools() => Some(delta),
        StreamEvent::TextDelta(text) if !mode.uses_tools() => Some(text),
        _ => None,
    }
}

struct Setup<T: Extract> {
    /// `gen_ai.extract` for the whole stream; every step runs inside it.
    span: tracing::Span,
    driver: Driver,
    mode: Mode,
    attempts: u32,
    context: Context,
    validators: Vec<Arc<dyn AsyncValidator<T>>>,
    reask: ReaskText,
    max_total_tokens: Option<u64>,
}

fn setup<T: Extract>(
    extraction: Extraction<'_, T>,
    schema: Arc<RootSchema>,
    name: String,
) -> Result<Setup<T>, Error> {
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
        retry_truncated_with: _,
    } = extraction;
    let tools = if mode == Mode::ParallelTools {
        super::parallel_tools(&schema)?
    } else {
        Vec::new()
    };
    let spec = OutputSpec {
        mode,
        schema,
        name: sanitize_name(&name),
        description: T::description().map(|d| d.into_owned()),
        tools,
    };
    let request = build_request(
        client.provider.as_ref(),
        model,
        messages,
        spec,
        params,
        extra,
    )?;
    let started = Instant::now();
    let span = tracing::info_span!(
        "gen_ai.extract",
        gen_ai.operation.name = "chat",
        gen_ai.system = client.provider.name(),
        gen_ai.request.model = %request.model,
        gen_ai.output.type = %name,
        instructor.streaming = true,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
    );
    Ok(Setup {
        span,
        driver: Driver {
            provider: client.provider.clone(),
            request,
            policy: client.retry,
            deadline: timeout.map(|t| started + t),
            started,
            hooks,
            events: None,
            response: Assembled::default(),
            transport_retries: 0,
            attempt_started: started,
        },
        mode,
        attempts: max_retries + 1,
        context,
        validators,
        reask,
        max_total_tokens,
    })
}

struct PartialRun<T: Extract> {
    setup: Setup<T>,
    reader: PartialStream<T>,
    ledger: Ledger,
    number: u32,
    failed: Option<String>,
    done: bool,
}

fn new_reader<T: Extract>(mode: Mode) -> PartialStream<T> {
    if mode.is_prompted() {
        PartialStream::lenient(Limits::default())
    } else if super::wraps_root::<T>(mode) {
        PartialStream::new().unwrapping(crate::schema::dialect::WRAPPED_ROOT_PROPERTY)
    } else {
        PartialStream::new()
    }
}

impl<T: Extract> PartialRun<T> {
    async fn step(&mut self) -> Option<Result<PartialUpdate<T>, Error>> {
        loop {
            if self.done {
                return None;
            }
            if self.failed.is_none() {
                match self.setup.driver.next(&self.ledger, self.number).await {
                    Err(error) => return self.fail(error),
                    Ok(Next::Restarted) => {
                        self.reader = new_reader(self.setup.mode);
                        continue;
                    }
                    Ok(Next::Event(event)) => {
                        let Some(bytes) = payload(self.setup.mode, &event) else {
                            continue;
                        };
                        match self.reader.feed(bytes.as_bytes()) {
                            Ok(Some(partial)) => {
                                return Some(Ok(PartialUpdate::Partial(partial.clone())));
                            }
                            Ok(None) => continue,
                            // Already wrong: stop reading and re-ask now.
                            Err(error) => {
                                self.failed = Some(error.to_string());
                                continue;
                            }
                        }
                    }
                    Ok(Next::End) => {}
                }
            }
            return match self.finish_attempt().await {
                Ok(Some(done)) => {
                    self.done = true;
                    Some(Ok(PartialUpdate::Done(Box::new(done))))
                }
                Ok(None) => continue,
                Err(error) => self.fail(error),
            };
        }
    }

    fn fail(&mut self, error: Error) -> Option<Result<PartialUpdate<T>, Error>> {
        self.done = true;
        self.setup
            .driver
            .hooks
            .emit(&HookEvent::Error { error: &error });
        Some(Err(error))
    }

    /// The end of an attempt: the value, or a re-ask (`Ok(None)`), or the error.
    async fn finish_attempt(&mut self) -> Result<Option<Completion<T>>, Error> {
        let (response, transport_retries, latency) = self.setup.driver.take_response();
        let mode = self.setup.mode;
        if let Some(usage) = &response.usage {
            self.ledger.total_usage.add(usage);
            record_usage(&self.setup.span, &self.ledger);
        }
        let raw = if mode.uses_tools() {
            response.tool_calls.first().map(|c| c.arguments.clone())
        } else {
            response.text.clone()
        };
        let mut attempt = super::Attempt {
            number: self.number,
            request_id: response.request_id.clone(),
            latency,
            usage: response.usage,
            transport_retries,
            raw_output: raw.clone(),
            error: None,
        };
        if let Some(error) = terminal_error(&response, raw.clone(), &mut attempt) {
            self.ledger.attempts.push(attempt);
            return Err(error(std::mem::take(&mut self.ledger)));
        }
        let reader = std::mem::replace(&mut self.reader, new_reader(mode));
        let outcome = match self.failed.take() {
            Some(message) => Err(message),
            None if raw.as_deref().is_none_or(|r| r.trim().is_empty()) => {
                Err("the answer was empty".to_owned())
            }
            None => match reader.finish(&self.setup.context) {
                Ok(value) => {
                    // Async validators are bound by the deadline too.
                    let validation = crate::validate::validate_all(
                        &value,
                        &self.setup.context,
                        &self.setup.validators,
                    );
                    let validated = match self.setup.driver.deadline {
                        Some(deadline) => {
                            tokio::time::timeout_at(deadline.into(), validation).await
                        }
                        None => Ok(validation.await),
                    };
                    match validated {
                        Ok(Ok(())) => Ok(value),
                        Ok(Err(errors)) => Err(errors.to_string()),
                        Err(_) => {
                            attempt.error = Some("timed out in validation".to_owned());
                            self.ledger.attempts.push(attempt);
                            return Err(Error::Timeout {
                                elapsed: self.setup.driver.started.elapsed(),
                                ledger: std::mem::take(&mut self.ledger),
                            });
                        }
                    }
                }
                Err(error) => Err(error.to_string()),
            },
        };
        match outcome {
            Ok(value) => {
                self.ledger.attempts.push(attempt);
                Ok(Some(Completion {
                    value,
                    response,
                    ledger: std::mem::take(&mut self.ledger),
                }))
            }
            Err(message) => {
                attempt.error = Some(message.clone());
                self.ledger.attempts.push(attempt);
                let hooks = &self.setup.driver.hooks;
                hooks.emit(&HookEvent::ParseError {
                    attempt: self.number,
                    message: &message,
                });
                if self.number >= self.setup.attempts {
                    return Err(Error::Parse {
                        message,
                        raw_output: raw,
                        ledger: std::mem::take(&mut self.ledger),
                    });
                }
                if let Some(limit) = self.setup.max_total_tokens {
                    let used = self.ledger.total_usage.total();
                    if used >= limit {
                        return Err(Error::BudgetExhausted {
                            used,
                            limit,
                            ledger: std::mem::take(&mut self.ledger),
                        });
                    }
                }
                hooks.emit(&HookEvent::Retry {
                    attempt: self.number,
                    reason: "invalid answer",
                });
                let answer = match &raw {
                    Some(text) => Ok((text.clone(), response.tool_calls.first().cloned())),
                    None => Err(message.clone()),
                };
                let reask = (self.setup.reask)(&message);
                append_reask(
                    &mut self.setup.driver.request.messages,
                    mode,
                    &answer,
                    &response,
                    &reask,
                );
                self.number += 1;
                if self.number == self.setup.attempts {
                    hooks.emit(&HookEvent::LastAttempt {
                        attempt: self.number,
                    });
                }
                Ok(None)
            }
        }
    }
}

impl<'c, T: Extract> Extraction<'c, T> {
    /// Streams the answer: a `T::Partial` whenever something visible changed, then the
    /// validated value ([`PartialUpdate::Done`]). A failed answer is re-asked like a
    /// whole one; the partials then start again.
    pub fn partial(self) -> impl Stream<Item = Result<PartialUpdate<T>, Error>> + Send + 'c {
        let name = T::name().into_owned();
        let schema = T::root_schema();
        let mode = self.mode;
        let started = setup(self, schema, name).map(|setup| PartialRun {
            setup,
            reader: new_reader(mode),
            ledger: Ledger::default(),
            number: 1,
            failed: None,
            done: false,
        });
        futures_util::stream::unfold(Some(started), |state| async move {
            match state? {
                Err(error) => Some((Err(error), None)),
                Ok(mut run) => {
                    let span = run.setup.span.clone();
                    let item = run.step().instrument(span).await?;
                    Some((item, Some(Ok(run))))
                }
            }
        })
    }

    /// Asks for a list of `T` and streams each item, deserialized and validated, the
    /// moment it is complete. An invalid item is reported with its index and does not
    /// stop the others.
    pub fn iter(self) -> impl Stream<Item = Result<T, Error>> + Send + 'c {
        let name = format!("{}_list", T::name());
        let schema = Arc::new(RootSchema::of::<Vec<T>>());
        let mode = self.mode;
        let context = self.context.clone();
        let started = setup(self, schema, name).map(|setup| ItemRun {
            setup,
            items: ItemStream::new(context),
            ledger: Ledger::default(),
            ready: std::collections::VecDeque::new(),
            done: false,
            mode,
            calls_done: 0,
        });
        futures_util::stream::unfold(Some(started), |state| async move {
            match state? {
                Err(error) => Some((Err(error), None)),
                Ok(mut run) => {
                    let span = run.setup.span.clone();
                    let item = run.step().instrument(span).await?;
                    Some((item, Some(Ok(run))))
                }
            }
        })
    }
}

struct ItemRun<T: Extract> {
    setup: Setup<T>,
    items: ItemStream<T>,
    ledger: Ledger,
    ready: std::collections::VecDeque<Result<T, Error>>,
    done: bool,
    mode: Mode,
    /// `ParallelTools`: how many tool calls have been turned into items.
    calls_done: usize,
}

impl<T: Extract> ItemRun<T> {
    async fn step(&mut self) -> Option<Result<T, Error>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.setup.driver.next(&self.ledger, 1).await {
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
                Ok(Next::Restarted) => {
                    self.items = ItemStream::new(self.setup.context.clone());
                }
                Ok(Next::Event(event)) => {
                    if self.mode == Mode::ParallelTools {
                        // A call is complete once the next one starts.
                        if let StreamEvent::ToolArgumentsDelta { index, .. } = event {
                            self.finish_calls(index);
                        }
                        continue;
                    }
                    let Some(bytes) = payload(self.mode, &event) else {
                        continue;
                    };
                    match self.items.feed(bytes.as_bytes()) {
                        Ok(done) => self.queue(done),
                        Err(error) => {
                            self.done = true;
                            return Some(Err(self.parse_error(error.to_string())));
                        }
                    }
                }
                Ok(Next::End) => {
                    self.done = true;
                    let (response, retries, latency) = self.setup.driver.take_response();
                    if let Some(usage) = &response.usage {
                        self.ledger.total_usage.add(usage);
                        record_usage(&self.setup.span, &self.ledger);
                    }
                    let mut attempt = super::Attempt {
                        number: 1,
                        request_id: response.request_id.clone(),
                        latency,
                        usage: response.usage,
                        transport_retries: retries,
                        raw_output: None,
                        error: None,
                    };
                    if let Some(error) = terminal_error(&response, None, &mut attempt) {
                        self.ledger.attempts.push(attempt);
                        self.ready
                            .push_back(Err(error(std::mem::take(&mut self.ledger))));
                        continue;
                    }
                    self.ledger.attempts.push(attempt);
                    if self.mode == Mode::ParallelTools {
                        self.finish_call_list(&response.tool_calls);
                        continue;
                    }
                    let items = std::mem::replace(&mut self.items, ItemStream::new(Context::new()));
                    match items.finish() {
                        Ok(done) => self.queue(done),
                        Err(error) => {
                            let error = self.parse_error(error.to_string());
                            self.ready.push_back(Err(error));
                        }
                    }
                }
            }
        }
    }

    /// `ParallelTools`: turns the calls before `index` into items.
    fn finish_calls(&mut self, index: usize) {
        let calls: Vec<(String, String)> = self
            .setup
            .driver
            .response
            .calls
            .iter()
            .enumerate()
            .skip(self.calls_done)
            .take(index.saturating_sub(self.calls_done))
            .map(|(_, (_, name, args))| (name.clone().unwrap_or_default(), args.clone()))
            .collect();
        for (name, arguments) in calls {
            let item = self.call_item(&name, &arguments);
            self.ready.push_back(item);
            self.calls_done += 1;
        }
    }

    /// `ParallelTools`: the calls not yet turned into items, at the end of the answer.
    fn finish_call_list(&mut self, calls: &[ToolCall]) {
        for call in calls.iter().skip(self.calls_done) {
            let item = self.call_item(&call.name, &call.arguments);
            self.ready.push_back(item);
            self.calls_done += 1;
        }
    }

    /// One call as one item of the enum, validated.
    fn call_item(&self, name: &str, arguments: &str) -> Result<T, Error> {
        let index = self.calls_done;
        let text = super::parallel_items(&[ToolCall {
            id: String::new(),
            name: name.to_owned(),
            arguments: arguments.to_owned(),
        }]);
        let fail = |message: String| Error::Parse {
            message: format!("item {index}: {message}"),
            raw_output: Some(arguments.to_owned()),
            ledger: self.ledger.clone(),
        };
        let mut items: Vec<T> =
            crate::extract::from_json_str(&text).map_err(|e| fail(e.to_string()))?;
        let item = items.pop().ok_or_else(|| fail("no item".to_owned()))?;
        item.validate(&self.setup.context)
            .map_err(|errors| fail(errors.to_string()))?;
        Ok(item)
    }

    fn queue(&mut self, done: Vec<Result<T, crate::stream::ItemError>>) {
        for item in done {
            let item = item.map_err(|error| Error::Parse {
                message: error.to_string(),
                raw_output: None,
                ledger: self.ledger.clone(),
            });
            self.ready.push_back(item);
        }
    }

    fn parse_error(&self, message: String) -> Error {
        Error::Parse {
            message,
            raw_output: None,
            ledger: self.ledger.clone(),
        }
    }
}
