//! Plain text answers: `client.text().user("What's the capital of Latvia?").max_tokens(20)
//! .await`, a stream of text chunks with `.stream()`, a chat history with `.messages()`,
//! and images or documents in the messages, on every provider.
//!
//! Transport failures are retried as for extractions (backoff, `retry-after`, never past
//! the deadline). A text cut at the token limit is still the answer (it is what was
//! asked for); a refusal is [`Error::Refusal`] and the content filter
//! [`Error::ContentFilter`]. Every error after an attempt carries the ledger.

use super::error::{Attempt, AttemptKind, Error, Ledger};
use super::retry::AfterFailure;
use super::{Client, RetryPolicy};
use crate::chat::{
    ChatRequest, ChatResponse, EventStream, FinishReason, GenerationParams, Message, ProviderError,
    StreamEvent,
};
use crate::media::Parts;
use futures_core::Stream;
use futures_util::StreamExt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A plain-text request. Built by [`Client::text`]; `.await` it for the text, or call
/// [`TextRequest::stream`] for its chunks.
#[derive(Clone)]
#[must_use = "a text request does nothing until it is awaited or streamed"]
pub struct TextRequest {
    client: Client,
    model: Option<String>,
    messages: Vec<Message>,
    params: GenerationParams,
    extra: serde_json::Map<String, serde_json::Value>,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for TextRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextRequest")
            .field("model", &self.model)
            .field("messages", &self.messages.len())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A plain-text request (no schema): the model's answer as a `String`.
    pub fn text(&self) -> TextRequest {
        TextRequest {
            model: self.model.clone(),
            messages: Vec::new(),
            params: GenerationParams::default(),
            extra: serde_json::Map::new(),
            timeout: self.timeout,
            client: self.clone(),
        }
    }
}

impl TextRequest {
    /// The model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Adds a system message.
    pub fn system(mut self, content: impl Into<Parts>) -> Self {
        self.messages.push(Message::system(content));
        self
    }

    /// Adds a user message (text, an image, a document, or a tuple of those).
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

    /// Maximum tokens of the answer.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.params.max_tokens = Some(max_tokens);
        self
    }

    /// A key for requests that share a prompt prefix (a long system prompt, a document
    /// asked about many times), so that the provider serves the prefix from one cache:
    /// OpenAI's `prompt_cache_key`. Ignored by providers without one.
    pub fn prompt_cache_key(mut self, key: impl Into<String>) -> Self {
        self.params.prompt_cache_key = Some(key.into());
        self
    }

    /// Sampling temperature.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.params.temperature = Some(temperature);
        self
    }

    /// Nucleus sampling.
    pub fn top_p(mut self, top_p: f32) -> Self {
        self.params.top_p = Some(top_p);
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

    /// The deadline for the whole request, retries included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn chat_request(&self) -> Result<ChatRequest, Error> {
        let model = self.model.clone().ok_or_else(|| Error::InvalidRequest {
            reason: "no model: set one with `Client::with_model` or `.model(...)`".to_owned(),
        })?;
        if self.messages.is_empty() {
            return Err(Error::InvalidRequest {
                reason: "no messages: add one with `.user(...)`".to_owned(),
            });
        }
        Ok(ChatRequest {
            model,
            messages: self.messages.clone(),
            output: None,
            params: self.params.clone(),
            extra: self.extra.clone(),
        })
    }

    /// The whole response (the text, usage, finish reason, raw body) and the ledger.
    ///
    /// # Errors
    ///
    /// As `.await`.
    pub async fn with_response(self) -> Result<(ChatResponse, Ledger), Error> {
        let request = self.chat_request()?;
        let mut sender = Sender::new(&self.client, self.timeout);
        let response = sender
            .retrying(|provider| {
                let request = &request;
                async move { provider.complete(request).await }
            })
            .await?;
        let text = response.text.clone().unwrap_or_default();
        sender.record(&response, Some(text.into()));
        sender.judge(&response)?;
        Ok((response, sender.ledger))
    }

    /// The answer as a stream of text chunks, as they arrive. It owns what it needs
    /// (`Send + 'static + Unpin`). Opening is retried like `.await`; a failure in the
    /// middle of the text ends the stream with the error (what was shown is not
    /// taken back by a retry).
    pub fn stream(self) -> TextStream {
        let future = async move {
            let request = self.chat_request()?;
            let mut sender = Sender::new(&self.client, self.timeout);
            let events = sender
                .retrying(|provider| {
                    let request = &request;
                    async move { provider.stream(request).await }
                })
                .await?;
            let timer = sender
                .deadline
                .map(|deadline| Box::pin(tokio::time::sleep_until(deadline.into())));
            Ok(Open {
                events,
                timer,
                sender,
                text: String::new(),
                refusal: String::new(),
                finish: None,
                usage: None,
                request_id: None,
                provider: None,
            })
        };
        TextStream {
            state: State::Opening(Box::pin(future)),
        }
    }
}

impl IntoFuture for TextRequest {
    type Output = Result<String, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (response, _) = self.with_response().await?;
            Ok(response.text.unwrap_or_default())
        })
    }
}

/// Sends with transport retries and keeps the ledger.
struct Sender {
    provider: Arc<dyn crate::chat::Provider>,
    policy: RetryPolicy,
    started: Instant,
    deadline: Option<Instant>,
    retries: u32,
    ledger: Ledger,
}

impl Sender {
    fn new(client: &Client, timeout: Option<Duration>) -> Self {
        let started = Instant::now();
        Sender {
            provider: client.provider.clone(),
            policy: client.retry,
            started,
            deadline: timeout.and_then(|timeout| started.checked_add(timeout)),
            retries: 0,
            ledger: Ledger::default(),
        }
    }

    fn timed_out(&mut self, during: &str) -> Error {
        self.failed(&format!("timed out {during}"));
        Error::Timeout {
            elapsed: self.started.elapsed(),
            ledger: std::mem::take(&mut self.ledger),
        }
    }

    fn failed(&mut self, error: &str) {
        self.ledger.attempts.push(Attempt {
            number: 1,
            provider: self.provider.name().to_owned(),
            request_id: None,
            latency: self.started.elapsed(),
            usage: None,
            transport_retries: self.retries,
            raw_output: None,
            error: Some(error.to_owned()),
            kind: AttemptKind::Answer,
        });
    }

    /// A provider's failure: a fallback chain's providers each as an attempt.
    fn failed_with(&mut self, error: &ProviderError) {
        match error {
            ProviderError::FallbackExhausted { failed } => self.failed_over(failed),
            error => self.failed(&error.to_string()),
        }
    }

    /// The providers of a fallback chain that failed, each as an attempt.
    fn failed_over(&mut self, failed: &[crate::chat::FailedOver]) {
        self.ledger.attempts.extend(Attempt::failed_over(
            failed,
            1,
            self.started.elapsed(),
            self.retries,
            &*self.provider,
        ));
    }

    async fn within<F: Future>(&self, future: F) -> Option<F::Output> {
        match self.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), future).await.ok(),
            None => Some(future.await),
        }
    }

    /// `call` until it succeeds, a failure is not worth retrying, the retries run out
    /// or the deadline passes.
    async fn retrying<T, F, Fut>(&mut self, call: F) -> Result<T, Error>
    where
        F: Fn(Arc<dyn crate::chat::Provider>) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        loop {
            let error = match self.within(call(self.provider.clone())).await {
                None => return Err(self.timed_out("waiting for the answer")),
                Some(Ok(value)) => return Ok(value),
                Some(Err(error)) => error,
            };
            let wait = match self.policy.after(&error, self.retries, self.deadline) {
                AfterFailure::Invalid(reason) => {
                    return Err(Error::InvalidRequest {
                        reason: self.provider.redact(&reason),
                    });
                }
                AfterFailure::GiveUp => {
                    self.failed_with(&error);
                    return Err(Error::Provider {
                        error: Box::new(error),
                        ledger: std::mem::take(&mut self.ledger),
                    });
                }
                AfterFailure::PastDeadline(wait) => {
                    return Err(self.timed_out(&format!(
                        "before a retry: {error}; the wait of {wait:?} passes the deadline"
                    )));
                }
                AfterFailure::Wait(wait) => wait,
            };
            self.retries += 1;
            tokio::time::sleep(wait).await;
        }
    }

    fn record(&mut self, response: &ChatResponse, raw: Option<Arc<str>>) {
        if let Some(usage) = &response.usage {
            self.ledger.total_usage.add(usage);
        }
        self.failed_over(&response.failed_over);
        self.ledger.attempts.push(Attempt {
            number: 1,
            provider: match &response.provider {
                Some(name) => name.clone(),
                None => self.provider.name().to_owned(),
            },
            request_id: response.request_id.clone(),
            latency: self.started.elapsed(),
            usage: response.usage,
            transport_retries: self.retries,
            raw_output: raw,
            error: None,
            kind: AttemptKind::Answer,
        });
    }

    /// A refusal or the content filter ends the request with its error.
    fn judge(&mut self, response: &ChatResponse) -> Result<(), Error> {
        let error = if let Some(text) = &response.refusal {
            Some(Error::Refusal {
                text: self.provider.redact(text),
                ledger: Ledger::default(),
            })
        } else if response.finish_reason == Some(FinishReason::ContentFilter) {
            Some(Error::ContentFilter {
                ledger: Ledger::default(),
            })
        } else {
            None
        };
        let Some(mut error) = error else {
            return Ok(());
        };
        if let Some(last) = self.ledger.attempts.last_mut() {
            last.error = Some(error.to_string());
        }
        let ledger = std::mem::take(&mut self.ledger);
        match &mut error {
            Error::Refusal { ledger: slot, .. } | Error::ContentFilter { ledger: slot } => {
                *slot = ledger;
            }
            _ => {}
        }
        Err(error)
    }
}

struct Open {
    events: EventStream,
    /// Wakes the stream when the deadline passes while it waits for more.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    sender: Sender,
    text: String,
    refusal: String,
    finish: Option<FinishReason>,
    usage: Option<crate::chat::Usage>,
    request_id: Option<String>,
    /// Who answers, in a fallback chain, and who failed before.
    provider: Option<(String, Vec<crate::chat::FailedOver>)>,
}

enum State {
    Opening(Pin<Box<dyn Future<Output = Result<Open, Error>> + Send>>),
    Open(Box<Open>),
    Done,
}

/// The chunks of a streamed text answer ([`TextRequest::stream`]).
pub struct TextStream {
    state: State,
}

impl std::fmt::Debug for TextStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextStream").finish_non_exhaustive()
    }
}

impl Stream for TextStream {
    type Item = Result<String, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Done => return Poll::Ready(None),
                State::Opening(future) => match std::task::ready!(future.as_mut().poll(cx)) {
                    Ok(open) => this.state = State::Open(Box::new(open)),
                    Err(error) => {
                        this.state = State::Done;
                        return Poll::Ready(Some(Err(error)));
                    }
                },
                State::Open(open) => {
                    let next = match open.events.poll_next_unpin(cx) {
                        Poll::Ready(next) => next,
                        Poll::Pending => {
                            if let Some(timer) = &mut open.timer
                                && timer.as_mut().poll(cx).is_ready()
                            {
                                let error = open.sender.timed_out("in the middle of the stream");
                                this.state = State::Done;
                                return Poll::Ready(Some(Err(error)));
                            }
                            return Poll::Pending;
                        }
                    };
                    match next {
                        Some(Ok(StreamEvent::TextDelta(text))) if !text.is_empty() => {
                            let text = open.sender.provider.redact(&text);
                            open.text.push_str(&text);
                            return Poll::Ready(Some(Ok(text)));
                        }
                        Some(Ok(StreamEvent::RefusalDelta(text))) => open.refusal.push_str(&text),
                        Some(Ok(StreamEvent::Finish(reason))) => open.finish = Some(reason),
                        Some(Ok(StreamEvent::Usage(usage))) => open.usage = Some(usage),
                        Some(Ok(StreamEvent::ResponseId(id))) => open.request_id = Some(id),
                        Some(Ok(StreamEvent::Provider { name, failed_over })) => {
                            if open.text.is_empty() && open.refusal.is_empty() {
                                open.provider = Some((name, failed_over));
                                continue;
                            }
                            // A fallback chain's provider broke off after chunks were
                            // shown: they cannot be taken back, so the text ends with
                            // its error (every failed provider in the ledger).
                            open.sender.failed_over(&failed_over);
                            let error = failed_over.last().map(|link| link.error.clone());
                            let ledger = std::mem::take(&mut open.sender.ledger);
                            this.state = State::Done;
                            return Poll::Ready(Some(Err(match error {
                                Some(error) => Error::Provider {
                                    error: Box::new(error),
                                    ledger,
                                },
                                None => Error::InvalidRequest {
                                    reason: "the fallback chain started over without a failure"
                                        .to_owned(),
                                },
                            })));
                        }
                        Some(Ok(_)) => {}
                        Some(Err(error)) => {
                            open.sender.failed(&error.to_string());
                            let ledger = std::mem::take(&mut open.sender.ledger);
                            this.state = State::Done;
                            return Poll::Ready(Some(Err(Error::Provider {
                                error: Box::new(error),
                                ledger,
                            })));
                        }
                        None => {
                            let response = ChatResponse {
                                text: Some(std::mem::take(&mut open.text)),
                                refusal: (!open.refusal.is_empty())
                                    .then(|| std::mem::take(&mut open.refusal)),
                                finish_reason: open.finish.take(),
                                usage: open.usage,
                                request_id: open.request_id.take(),
                                provider: open.provider.as_ref().map(|(name, _)| name.clone()),
                                failed_over: open
                                    .provider
                                    .take()
                                    .map(|(_, failed)| failed)
                                    .unwrap_or_default(),
                                ..ChatResponse::default()
                            };
                            let raw = response.text.clone().map(Into::into);
                            open.sender.record(&response, raw);
                            let verdict = open.sender.judge(&response);
                            this.state = State::Done;
                            if let Err(error) = verdict {
                                return Poll::Ready(Some(Err(error)));
                            }
                            return Poll::Ready(None);
                        }
                    }
                }
            }
        }
    }
}
