//! The attempt lifecycle that `.await`, `.partial()` and `.iter()` all drive: the
//! ledger, usage, spans, hooks, the token budget, redaction of what the server sent,
//! validation within the deadline, and the verdict on each answer (done, again, or
//! failed). Whole and streamed answers differ only in how the response arrives
//! (`whole.rs`, `streaming/`); everything decided about it is decided here, once.

use super::Completion;
use super::answer::{Answer, Failure, answer_text, raw_text};
use super::error::{Attempt, AttemptKind, Error, Ledger, StopReason, StoppedBy};
use super::hooks::{HookEvent, Hooks};
use super::llm_validator;
use super::reask::{ReaskText, append_reask};
use super::request::WRAPPED;
use super::retry::RetryPolicy;
use super::validation_calls::ValidationCalls;
use crate::chat::{
    ChatRequest, ChatResponse, FailedOver, FinishReason, OutputSpec, Provider, ProviderError,
};
use crate::path::{PathSegment, WirePath};
use crate::validate::{
    AsyncValidator, AttemptInfo, Context, LlmCheck, PendingChecks, ValidationErrors,
};
use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The async validators of an extraction.
pub(crate) type Validators<V> = Vec<Arc<dyn AsyncValidator<V>>>;

/// Validation of a read value: the synchronous rules, then the async validators, with
/// the context each attempt's validators see. Plain functions of the answer type (made
/// where it is known), so that an extraction without async validators checks its
/// value in place, with no future to allocate.
pub(crate) struct Validation<V> {
    /// The context (its variables shared).
    pub context: Context,
    /// The async validators, in order.
    pub validators: Validators<V>,
    /// The synchronous rules of the type.
    pub rules: fn(&V, &Context) -> Result<(), ValidationErrors>,
    /// The value read back from an answer's JSON after validators' fixes were put in.
    pub reread: fn(serde_json::Value) -> Result<V, String>,
}

/// What the engine needs from the builder, whatever the answer type.
pub(crate) struct Settings {
    pub provider: Arc<dyn Provider>,
    pub request: ChatRequest,
    pub spec: OutputSpec,
    pub policy: RetryPolicy,
    pub hooks: Hooks,
    pub timeout: Option<std::time::Duration>,
    pub attempts: u32,
    pub max_total_tokens: Option<u64>,
    pub retry_truncated_with: Option<u32>,
    pub reask: ReaskText,
    pub streaming: bool,
    pub output_type: Cow<'static, str>,
}

/// The deadline `timeout` after `start`; a deadline past what `Instant` can hold is no
/// deadline.
fn deadline_after(start: Instant, timeout: Option<std::time::Duration>) -> Option<Instant> {
    timeout.and_then(|t| start.checked_add(t))
}

/// What came of an answer.
// Not boxed: a verdict lives for one match, and a box would be one more allocation
// per extraction.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Verdict<V> {
    /// The validated value.
    Done(Completion<V>),
    /// Another attempt follows (a re-ask, or a retry after truncation); why.
    Again(String),
    /// The extraction failed.
    Fail(Error),
}

/// One extraction's state across its attempts.
pub(crate) struct Engine<V> {
    pub(super) provider: Arc<dyn Provider>,
    pub(super) request: ChatRequest,
    pub(super) spec: OutputSpec,
    pub(super) policy: RetryPolicy,
    pub(super) hooks: Hooks,
    pub(super) started: Instant,
    pub(super) deadline: Option<Instant>,
    /// The time allowed for the whole extraction, from [`Engine::start`].
    timeout: Option<std::time::Duration>,
    /// The type asked for, as the span names it.
    output_type: Cow<'static, str>,
    attempts: u32,
    /// The attempt in flight (0 before the first).
    pub(super) number: u32,
    max_total_tokens: Option<u64>,
    retry_truncated_with: Option<u32>,
    validation: Validation<V>,
    reask: ReaskText,
    pub(super) ledger: Ledger,
    /// `gen_ai.extract`: the whole extraction.
    pub(super) span: tracing::Span,
    /// `gen_ai.attempt`: the attempt in flight.
    pub(super) attempt_span: tracing::Span,
    pub(super) attempt_started: Instant,
    pub(super) transport_retries: u32,
    /// Whether responses keep their raw body: not when nothing will see it (the
    /// value alone is returned and no hook is set).
    pub(super) keep_raw: bool,
    /// A hook asked to stop ([`Hooks::stop_when`]): no further attempt or retry.
    pub(super) stop: Option<StopReason>,
    /// The calls validators made for the attempt in flight (recorded after it).
    validation_calls: Vec<Attempt>,
}

impl<V> Engine<V> {
    pub(crate) fn new(settings: Settings, validation: Validation<V>) -> Self {
        let Settings {
            provider,
            request,
            spec,
            policy,
            hooks,
            timeout,
            attempts,
            max_total_tokens,
            retry_truncated_with,
            reask,
            streaming,
            output_type,
        } = settings;
        let started = Instant::now();
        let mut engine = Engine {
            provider,
            request,
            spec,
            policy,
            hooks,
            started,
            deadline: deadline_after(started, timeout),
            timeout,
            output_type,
            attempts,
            number: 0,
            max_total_tokens,
            retry_truncated_with,
            validation,
            reask,
            ledger: Ledger::default(),
            span: tracing::Span::none(),
            attempt_span: tracing::Span::none(),
            attempt_started: started,
            transport_retries: 0,
            keep_raw: true,
            stop: None,
            validation_calls: Vec::new(),
        };
        // A whole extraction's span is made when it starts ([`Engine::start`]), or by
        // a batch item as it is built ([`Engine::open_span`]): made here too, it would
        // be a span of its own that never runs.
        if streaming {
            engine.span = engine.extract_span(true);
        }
        engine
    }

    /// Makes the span of a whole extraction, now.
    pub(super) fn open_span(&mut self) {
        self.span = self.extract_span(false);
    }

    /// `gen_ai.extract`, the span of the whole extraction, a child of the span current
    /// where it is made.
    fn extract_span(&self, streaming: bool) -> tracing::Span {
        tracing::info_span!(
            "gen_ai.extract",
            gen_ai.operation.name = "chat",
            gen_ai.system = self.provider.name(),
            gen_ai.request.model = %self.request.model,
            gen_ai.output.type = %self.output_type,
            instructor.streaming = streaming,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
        )
    }

    /// Starts a whole extraction at its first poll: its clock and deadline start now,
    /// and its span is made here (unless it has one), a child of the span of whoever
    /// polls it (`send().instrument(span)`). A future built by `.send()` builds its
    /// request at once, but nothing of it runs until it is polled.
    pub(super) fn start(&mut self) {
        // A batch item run live has its span from when it was built.
        if self.span.is_none() {
            self.open_span();
        }
        let now = Instant::now();
        self.started = now;
        self.attempt_started = now;
        self.deadline = deadline_after(now, self.timeout);
    }

    /// Starts the next attempt: the budget checked, `LastAttempt` and `Request` hooks,
    /// the attempt's span.
    pub(super) fn begin_attempt(&mut self) -> Result<(), Error> {
        if let Some(reason) = self.stop.take() {
            return Err(self.stopped(reason, None, None));
        }
        if let Some(limit) = self.max_total_tokens {
            let used = self.ledger.total_usage.total();
            if used >= limit {
                return Err(Error::BudgetExhausted {
                    used,
                    limit,
                    ledger: std::mem::take(&mut self.ledger),
                });
            }
        }
        self.number += 1;
        if self.number == self.attempts {
            let stop = self.hooks.emit(&HookEvent::LastAttempt {
                attempt: self.number,
            });
            self.noted(stop);
        }
        if self.hooks.is_active() {
            let body = self.provider.wire_body(&self.request);
            let stop = self.hooks.emit(&HookEvent::Request {
                attempt: self.number,
                request: &self.request,
                body: body.as_ref(),
            });
            self.noted(stop);
        }
        self.attempt_span = tracing::info_span!(
            parent: &self.span,
            "gen_ai.attempt",
            gen_ai.request.model = %self.request.model,
            instructor.attempt = self.number,
            gen_ai.response.id = tracing::field::Empty,
            gen_ai.response.finish_reasons = tracing::field::Empty,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
        );
        self.attempt_started = Instant::now();
        self.transport_retries = 0;
        Ok(())
    }

    /// `future`, unless the deadline passes first (`None`).
    pub(super) async fn within<F: Future>(&self, future: F) -> Option<F::Output> {
        match self.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), future).await.ok(),
            None => Some(future.await),
        }
    }

    /// Validates `value` as the attempt in flight's answer; `None` when the deadline
    /// passes first (only async validators can take that long: the rules alone are
    /// checked in place, as a future that is ready at once would be).
    ///
    /// Not an `async fn`: the rules are checked at once, and only validators that
    /// await (async or LLM-backed ones) get a future, boxed. Every request holds this
    /// future while it waits; held in place, theirs would make it larger.
    fn validate<'a>(
        &'a mut self,
        value: &'a V,
    ) -> impl Future<Output = Option<Result<(), ValidationErrors>>> + 'a {
        use futures_util::future::Either;
        let info = AttemptInfo {
            number: self.number,
            last: self.number >= self.attempts,
        };
        // Each attempt's validators see which attempt it is (a cheap copy), and the
        // type's rules note there the LLM checks they ask for.
        let mut context = self.validation.context.for_attempt(info);
        let pending = PendingChecks::default();
        context.llm_checks = Some(pending.clone());
        let rules = (self.validation.rules)(value, &context);
        let checks = pending.take();
        context.llm_checks = None;
        if rules.is_err() || (self.validation.validators.is_empty() && checks.is_empty()) {
            return Either::Left(std::future::ready(Some(rules)));
        }
        Either::Right(Box::pin(async move {
            let calls = self.validation_calls();
            context.insert(calls.clone());
            let judge = self.judge_for(&checks);
            let validators = &self.validation.validators;
            let result = self
                .within(llm_validator::check_async(
                    value,
                    &context,
                    validators,
                    checks,
                    judge.as_ref(),
                ))
                .await;
            self.record_validation_calls(&calls);
            result
        }))
    }

    /// Where validators that call a model record their calls, within the deadline and
    /// what is left of the budget.
    pub(super) fn validation_calls(&self) -> ValidationCalls {
        let tokens_left = self
            .max_total_tokens
            .map(|limit| limit.saturating_sub(self.ledger.total_usage.total()));
        ValidationCalls::new(self.number, self.deadline, tokens_left)
    }

    /// The client that makes `checks` (`None` when there are none): this extraction's
    /// provider and model.
    pub(super) fn judge_for(&self, checks: &[LlmCheck]) -> Option<super::Client> {
        (!checks.is_empty())
            .then(|| llm_validator::judge(&self.provider, &self.request.model, self.spec.mode))
    }

    /// Moves what validators recorded in `calls` into the token total and the ledger,
    /// after the attempt whose answer they judged (once it is recorded).
    pub(super) fn record_validation_calls(&mut self, calls: &ValidationCalls) {
        let (recorded, usage) = calls.take();
        if recorded.is_empty() {
            return;
        }
        self.ledger.total_usage.add(&usage);
        let answered = self.ledger.attempts.iter().rev().any(|attempt| {
            attempt.number == self.number && matches!(attempt.kind, AttemptKind::Answer)
        });
        if answered {
            // Items judged after their answer was recorded (`.iter()`).
            self.ledger.attempts.extend(recorded);
        } else {
            self.validation_calls.extend(recorded);
        }
    }

    /// The answer with the validators' fixes put in, read again and checked by the
    /// type's rules (the validators that offered the fixes are not asked again); `None`
    /// when a fix does not fit the answer or the result is still invalid.
    fn fixed(&self, response: &ChatResponse, fixes: &[(WirePath, String)]) -> Option<V> {
        let text = answer_text(&self.spec, response).ok()?;
        // The answer's JSON as it is, or as the lenient reader finds and repairs it (in
        // prose, in a fence, with trailing commas...). The repairs the type would have
        // made (a number written as a string) are not made: such an answer is re-asked.
        let mut document = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(document) => document,
            Err(_) => crate::stream::read_lenient::<Document>(&text).ok()?.value.0,
        };
        let root = if self.spec.wraps_root() {
            document.get_mut(WRAPPED)?
        } else {
            &mut document
        };
        for (path, fixed) in fixes {
            let mut slot = &mut *root;
            for segment in path.segments() {
                slot = match segment {
                    PathSegment::Key(key) => slot.get_mut(key.as_str())?,
                    PathSegment::Index(index) => slot.get_mut(*index)?,
                };
            }
            *slot = serde_json::from_str(fixed).ok()?;
        }
        let value = (self.validation.reread)(root.take()).ok()?;
        let context = self.validation.context.for_attempt(AttemptInfo {
            number: self.number,
            last: self.number >= self.attempts,
        });
        (self.validation.rules)(&value, &context).ok()?;
        Some(value)
    }

    /// An error that ends an item stream, shown after items were judged since it was
    /// made (`.iter()` checks an item when it is shown): their calls join its ledger.
    pub(super) fn with_late_calls(&mut self, mut error: Error) -> Error {
        if self.validation_calls.is_empty() {
            return error;
        }
        if let Some(ledger) = error.ledger_mut() {
            for call in &self.validation_calls {
                if let Some(used) = &call.usage {
                    ledger.total_usage.add(used);
                }
            }
            ledger.attempts.append(&mut self.validation_calls);
        }
        error
    }

    /// Records the attempt that produced the answer, then the calls its validators made.
    fn push_answer(&mut self, attempt: Attempt) {
        self.ledger.attempts.push(attempt);
        self.ledger.attempts.append(&mut self.validation_calls);
    }

    /// Records the attempt in flight as failed without an answer.
    pub(super) fn record_failure(&mut self, error: &str) {
        self.ledger.attempts.push(Attempt {
            number: self.number,
            provider: self.provider.name().to_owned(),
            request_id: None,
            latency: self.attempt_started.elapsed(),
            usage: None,
            transport_retries: self.transport_retries,
            raw_output: None,
            error: Some(self.provider.redact(error)),
            kind: AttemptKind::Answer,
        });
    }

    /// Records the attempt in flight as failed with `error`: a fallback chain's
    /// providers each as an attempt of its own.
    pub(super) fn record_provider_failure(&mut self, error: &ProviderError) {
        match error {
            ProviderError::FallbackExhausted { failed } => self.record_failed_over(failed),
            error => self.record_failure(&error.to_string()),
        }
    }

    /// The providers of a fallback chain that failed in the attempt in flight, each as
    /// an attempt of its own (with the attempt's number).
    fn record_failed_over(&mut self, failed: &[FailedOver]) {
        self.ledger.attempts.extend(Attempt::failed_over(
            failed,
            self.number,
            self.attempt_started.elapsed(),
            self.transport_retries,
            &*self.provider,
        ));
    }

    /// The deadline passed during the attempt in flight.
    pub(super) fn timed_out(&mut self, during: &str) -> Error {
        self.record_failure(&format!("timed out {during}"));
        Error::Timeout {
            elapsed: self.started.elapsed(),
            ledger: std::mem::take(&mut self.ledger),
        }
    }

    /// Keeps the first stop a hook asked for.
    pub(super) fn noted(&mut self, stop: Option<StopReason>) {
        if self.stop.is_none() {
            self.stop = stop;
        }
    }

    /// The extraction ends early for `reason`.
    pub(super) fn stopped(
        &mut self,
        reason: StopReason,
        errors: Option<ValidationErrors>,
        raw_output: Option<String>,
    ) -> Error {
        Error::Stopped {
            reason: Box::new(StopReason {
                errors,
                raw_output,
                ..reason
            }),
            ledger: std::mem::take(&mut self.ledger),
        }
    }

    /// Emits the `Error` hook for an error leaving the extraction.
    pub(super) fn fail(&self, error: Error) -> Error {
        // The extraction is over: a stop asked now changes nothing.
        let _ = self.hooks.emit(&HookEvent::Error { error: &error });
        error
    }

    /// A response has arrived (whole, or assembled from a stream): whatever came from
    /// the server is redacted, then the `Response` and `Usage` hooks and the spans.
    pub(super) fn received(&mut self, response: &mut ChatResponse) {
        let provider = &self.provider;
        let redact = |text: &mut String| provider.redact_in_place(text);
        for text in [
            &mut response.text,
            &mut response.refusal,
            &mut response.request_id,
        ]
        .into_iter()
        .flatten()
        {
            redact(text);
        }
        for call in &mut response.tool_calls {
            redact(&mut call.id);
            redact(&mut call.name);
            if let Cow::Owned(redacted) = provider.redacted(&call.arguments) {
                call.arguments = redacted.into();
            }
        }
        self.record_failed_over(&response.failed_over);
        let stop = self.hooks.emit(&HookEvent::Response {
            attempt: self.number,
            response,
        });
        self.noted(stop);
        let span = &self.attempt_span;
        if let Some(id) = &response.request_id {
            span.record("gen_ai.response.id", id.as_str());
        }
        if let Some(reason) = &response.finish_reason
            && !span.is_disabled()
        {
            span.record("gen_ai.response.finish_reasons", format!("{reason:?}"));
        }
        if let Some(usage) = &response.usage {
            span.record("gen_ai.usage.input_tokens", usage.input_tokens);
            span.record("gen_ai.usage.output_tokens", usage.output_tokens);
            self.ledger.total_usage.add(usage);
            let stop = self.hooks.emit(&HookEvent::Usage {
                attempt: self.number,
                usage,
                total: &self.ledger.total_usage,
            });
            self.noted(stop);
            self.span.record(
                "gen_ai.usage.input_tokens",
                self.ledger.total_usage.input_tokens,
            );
            self.span.record(
                "gen_ai.usage.output_tokens",
                self.ledger.total_usage.output_tokens,
            );
        }
    }

    /// The ledger entry of the attempt that produced `response` (which took
    /// `latency`).
    fn attempt_of(
        &self,
        response: &ChatResponse,
        raw: Option<Arc<str>>,
        latency: Duration,
    ) -> Attempt {
        Attempt {
            number: self.number,
            provider: match &response.provider {
                Some(name) => name.clone(),
                None => self.provider.name().to_owned(),
            },
            request_id: response.request_id.clone(),
            latency,
            usage: response.usage,
            transport_retries: self.transport_retries,
            raw_output: raw,
            error: None,
            kind: AttemptKind::Answer,
        }
    }

    /// The answer's text for the ledger (a tool call's arguments shared, not copied).
    fn raw_of(&self, response: &ChatResponse) -> Option<Arc<str>> {
        raw_text(&self.spec, response)
    }

    /// Records the attempt that produced `response`; answers that re-asking cannot fix
    /// (a refusal, the content filter, truncation) end the extraction here.
    pub(super) fn settle(
        &mut self,
        response: &ChatResponse,
        raw: Option<Arc<str>>,
    ) -> Result<(), Error> {
        let mut attempt = self.attempt_of(response, raw, self.attempt_started.elapsed());
        let terminal = terminal_error(response);
        let raw = terminal.as_ref().and_then(|_| owned(&attempt.raw_output));
        match terminal {
            Some((reason, error)) => {
                attempt.error = Some(reason);
                self.ledger.attempts.push(attempt);
                Err(error(std::mem::take(&mut self.ledger), raw))
            }
            None => {
                self.ledger.attempts.push(attempt);
                Ok(())
            }
        }
    }

    /// The verdict on an answer: done, again (re-ask or a larger `max_tokens`), or
    /// failed.
    ///
    /// The ledger shares the answer's text with the response (a copy only for a text
    /// answer), and only when something will see it: a value returned alone (`.await`
    /// without hooks) drops the ledger, so its last attempt keeps none.
    ///
    /// Not an `async fn`: one would keep the response twice in its future (as the
    /// argument and as the local it moves into), and every request holds this future.
    #[allow(
        clippy::manual_async_fn,
        reason = "an `async fn` would hold the response twice"
    )]
    pub(super) fn judge(
        &mut self,
        response: ChatResponse,
        answer: Answer<V>,
    ) -> impl Future<Output = Verdict<V>> + '_ {
        async move {
            // The attempt took until its answer was read (validation is not counted).
            let latency = self.attempt_started.elapsed();
            if response.finish_reason == Some(FinishReason::Length)
                && let Some(larger) = self
                    .retry_truncated_with
                    .filter(|m| self.request.params.max_tokens < Some(*m))
            {
                let mut attempt = self.attempt_of(&response, self.raw_of(&response), latency);
                attempt.error = Some(format!(
                    "truncated at the token limit; retrying with max_tokens {larger}"
                ));
                self.ledger.attempts.push(attempt);
                let stop = self.hooks.emit(&HookEvent::Retry {
                    attempt: self.number,
                    reason: "truncated",
                });
                self.noted(stop);
                if let Some(reason) = self.stop.take() {
                    let raw = owned(&self.raw_of(&response));
                    return Verdict::Fail(self.stopped(reason, None, raw));
                }
                self.request.params.max_tokens = Some(larger);
                return Verdict::Again(format!(
                    "the answer was cut at the token limit; asking again with max_tokens {larger}"
                ));
            }
            if let Some((reason, error)) = terminal_error(&response) {
                let mut attempt = self.attempt_of(&response, self.raw_of(&response), latency);
                attempt.error = Some(reason);
                let raw = owned(&attempt.raw_output);
                self.ledger.attempts.push(attempt);
                return Verdict::Fail(error(std::mem::take(&mut self.ledger), raw));
            }
            let outcome = match answer.value {
                Err(failure) => Err(failure),
                // Async validators (LLM-backed ones) are bound by the deadline too.
                Ok(value) => match self.validate(&value).await {
                    None => {
                        let mut attempt =
                            self.attempt_of(&response, self.raw_of(&response), latency);
                        attempt.error = Some("timed out in validation".to_owned());
                        self.push_answer(attempt);
                        return Verdict::Fail(Error::Timeout {
                            elapsed: self.started.elapsed(),
                            ledger: std::mem::take(&mut self.ledger),
                        });
                    }
                    Some(Ok(())) => Ok(value),
                    Some(Err(errors)) => match errors
                        .fixes()
                        .and_then(|fixes| self.fixed(&response, fixes))
                    {
                        // Every error had a fix, and the fixed answer passes the rules.
                        Some(fixed) => Ok(fixed),
                        None => Err(Failure::Validation(errors)),
                    },
                },
            };
            let failure = match outcome {
                Ok(value) => {
                    // A value returned alone (`keep_raw: false`: `.await` without hooks)
                    // drops its ledger: nothing is recorded for it to drop.
                    if self.keep_raw {
                        let attempt = self.attempt_of(&response, self.raw_of(&response), latency);
                        self.push_answer(attempt);
                    }
                    return Verdict::Done(Completion {
                        value,
                        response,
                        ledger: std::mem::take(&mut self.ledger),
                    });
                }
                Err(failure) => failure,
            };
            let mut attempt = self.attempt_of(&response, None, latency);
            let text = self.provider.redact(&failure.to_string());
            attempt.raw_output = self.raw_of(&response);
            attempt.error = Some(text.clone());
            let last = self.number >= self.attempts;
            let raw = if last {
                owned(&attempt.raw_output)
            } else {
                None
            };
            self.push_answer(attempt);
            let stop = match &failure {
                Failure::Parse(message) => self.hooks.emit(&HookEvent::ParseError {
                    attempt: self.number,
                    message,
                }),
                Failure::Validation(errors) => self.hooks.emit(&HookEvent::ValidationError {
                    attempt: self.number,
                    errors,
                }),
            };
            self.noted(stop);
            // A validator's `Stop`, then a hook's, end the extraction here, last attempt or
            // not: their reason says more than "no attempt left".
            let stop = match &failure {
                Failure::Validation(errors) => errors.stop_reason().map(|error| StopReason {
                    by: StoppedBy::Validator {
                        path: error.path.clone(),
                    },
                    message: error.message.clone(),
                    errors: None,
                    raw_output: None,
                }),
                Failure::Parse(_) => None,
            }
            .or_else(|| self.stop.take());
            if let Some(reason) = stop {
                let raw = owned(
                    &self
                        .ledger
                        .attempts
                        .last()
                        .and_then(|a| a.raw_output.clone()),
                );
                let errors = match failure {
                    Failure::Validation(errors) => Some(errors),
                    Failure::Parse(_) => None,
                };
                return Verdict::Fail(self.stopped(reason, errors, raw));
            }
            if last {
                let ledger = std::mem::take(&mut self.ledger);
                return Verdict::Fail(match failure {
                    Failure::Parse(_) => Error::Parse {
                        message: text,
                        raw_output: raw,
                        ledger,
                    },
                    Failure::Validation(errors) => Error::Validation {
                        errors,
                        raw_output: raw,
                        ledger,
                    },
                });
            }
            let stop = self.hooks.emit(&HookEvent::Retry {
                attempt: self.number,
                reason: "invalid answer",
            });
            self.noted(stop);
            if let Some(reason) = self.stop.take() {
                let raw = owned(&self.raw_of(&response));
                let errors = match failure {
                    Failure::Validation(errors) => Some(errors),
                    Failure::Parse(_) => None,
                };
                return Verdict::Fail(self.stopped(reason, errors, raw));
            }
            let reask = (self.reask)(&text);
            append_reask(&mut self.request.messages, &response, &reask);
            Verdict::Again(format!("the answer was not valid; asking again: {text}"))
        }
    }
}

/// An owned copy of the answer's text, for an error that carries it.
fn owned(raw: &Option<Arc<str>>) -> Option<String> {
    raw.as_deref().map(str::to_owned)
}

/// Builds an error once the ledger is complete (and given the answer's text).
type ErrorWithLedger = Box<dyn FnOnce(Ledger, Option<String>) -> Error + Send>;

/// Answers that re-asking cannot fix: a refusal, the content filter, truncation at the
/// token limit (re-asking would be cut again: fail fast). The error of the attempt's
/// ledger entry, and the error that ends the extraction.
fn terminal_error(response: &ChatResponse) -> Option<(String, ErrorWithLedger)> {
    if let Some(text) = response.refusal.clone() {
        let reason = format!("refusal: {text}");
        return Some((
            reason,
            Box::new(move |ledger, _| Error::Refusal { text, ledger }),
        ));
    }
    match response.finish_reason {
        Some(FinishReason::Length) => Some((
            "truncated at the token limit".to_owned(),
            Box::new(|ledger, raw| Error::Truncated {
                partial_output: raw,
                ledger,
            }),
        )),
        Some(FinishReason::ContentFilter) => Some((
            "content filter".to_owned(),
            Box::new(|ledger, _| Error::ContentFilter { ledger }),
        )),
        _ => None,
    }
}

/// Any JSON document, read by the lenient reader (for validators' fixes).
#[derive(serde::Deserialize, instructor_macros::Extract)]
#[serde(transparent)]
#[extract(crate = "crate")]
struct Document(serde_json::Value);
