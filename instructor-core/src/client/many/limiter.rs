//! The pace of a many-item run: requests per minute, tokens per minute, and the
//! provider's own word on what is left (its rate-limit headers), applied to every HTTP
//! request the run makes (first attempts, re-asks and transport retries alike).
//!
//! It sits in a [`Provider`] that wraps the client's: each request waits for its turn
//! before it is sent, and each answer's usage and [`RateLimits`] are read on the way
//! back. Wrapping the provider rather than the extraction is what lets one item's
//! re-asks be paced with everyone else's, without the extraction knowing.
//!
//! - Requests per minute: starts spaced `60 s / rpm` apart (no burst at the start).
//! - Tokens per minute: a bucket of `tpm` tokens refilled at `tpm / 60` per second;
//!   a request waits while it is empty, and each answer's usage is taken from it (so it
//!   can go below zero, and the wait is then as long as refilling takes).
//! - Headers: `requests_remaining: 0`, or fewer tokens remaining than an average
//!   answer took, holds every request until the header's reset (one second when it
//!   gave none): the run slows down before the provider answers 429.
//!
//! Timers are tokio's (`tokio::time`), so a test can run them on paused time.

use crate::chat::{
    BoxFuture, Capabilities, ChatRequest, ChatResponse, EventStream, Provider, ProviderError,
    RateLimits, StreamEvent, Usage,
};
use futures_util::StreamExt;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// How long to hold requests when a header says nothing is left but not when it
/// starts over.
const DEFAULT_RESET: Duration = Duration::from_secs(1);

/// The limits of a run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Limits {
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u64>,
}

/// The shared pace of a run.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: Limits,
    state: Mutex<State>,
    /// How many requests waited for their turn.
    waits: AtomicU64,
}

#[derive(Debug)]
struct State {
    /// The earliest start of the next request (requests per minute).
    next_start: Option<Instant>,
    /// Tokens in the bucket (tokens per minute), and when it was last refilled.
    tokens: f64,
    refilled_at: Instant,
    /// No request before this (the provider's headers).
    held_until: Option<Instant>,
    /// Answers with usage, and their tokens, for the average answer.
    answers: u64,
    answer_tokens: u64,
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Self {
        let tokens = limits.tokens_per_minute.map_or(0.0, |tpm| tpm as f64);
        Limiter {
            limits,
            state: Mutex::new(State {
                next_start: None,
                tokens,
                refilled_at: Instant::now(),
                held_until: None,
                answers: 0,
                answer_tokens: 0,
            }),
            waits: AtomicU64::new(0),
        }
    }

    /// How many requests waited for their turn.
    pub(crate) fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until a request may be sent, and takes its turn.
    pub(crate) async fn acquire(&self) {
        let mut waited = false;
        loop {
            let wait_until = {
                let mut state = self.lock();
                let now = Instant::now();
                let until = self.earliest(&mut state, now);
                if until <= now {
                    if let Some(rpm) = self.limits.requests_per_minute {
                        let interval = Duration::from_secs(60) / rpm.max(1);
                        let from = state.next_start.map_or(now, |next| next.max(now));
                        state.next_start = Some(from + interval);
                    }
                    return;
                }
                until
            };
            if !waited {
                waited = true;
                self.waits.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// The earliest time the next request may start, the bucket refilled to `now`.
    fn earliest(&self, state: &mut State, now: Instant) -> Instant {
        let mut until = now;
        if let Some(held) = state.held_until {
            until = until.max(held);
        }
        if let Some(next) = state.next_start {
            until = until.max(next);
        }
        if let Some(tpm) = self.limits.tokens_per_minute {
            let per_second = tpm.max(1) as f64 / 60.0;
            let elapsed = now.saturating_duration_since(state.refilled_at);
            state.tokens = (state.tokens + elapsed.as_secs_f64() * per_second).min(tpm as f64);
            state.refilled_at = now;
            if state.tokens <= 0.0 {
                // Refilling to just above empty; at most a minute (a full bucket).
                let seconds = ((-state.tokens + 1.0) / per_second).min(60.0);
                until = until.max(now + Duration::from_secs_f64(seconds));
            }
        }
        until
    }

    /// What an answer said: its usage is taken from the bucket, and its headers may
    /// hold the requests after it.
    pub(crate) fn observe(&self, usage: Option<&Usage>, limits: Option<&RateLimits>) {
        let mut state = self.lock();
        let now = Instant::now();
        if let Some(usage) = usage {
            let total = usage.total();
            state.answers = state.answers.saturating_add(1);
            state.answer_tokens = state.answer_tokens.saturating_add(total);
            if self.limits.tokens_per_minute.is_some() {
                state.tokens -= total as f64;
            }
        }
        let Some(limits) = limits else { return };
        let average = match (state.answer_tokens, state.answers) {
            (_, 0) => 1,
            (tokens, answers) => (tokens / answers).max(1),
        };
        let mut resets = Vec::with_capacity(2);
        if limits.requests_remaining == Some(0) {
            resets.push(limits.requests_reset);
        }
        if limits.tokens_remaining.is_some_and(|left| left < average) {
            resets.push(limits.tokens_reset);
        }
        for reset in resets {
            let until = now + reset.unwrap_or(DEFAULT_RESET).min(RateLimits::MAX_RESET);
            state.held_until = Some(state.held_until.map_or(until, |held| held.max(until)));
        }
    }
}

/// The client's provider, paced by a [`Limiter`].
pub(crate) struct Paced {
    pub inner: Arc<dyn Provider>,
    pub limiter: Arc<Limiter>,
}

impl fmt::Debug for Paced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The inner provider's own Debug (which never shows a key).
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl Paced {
    async fn complete_with(
        &self,
        request: &ChatRequest,
        keep_raw: bool,
    ) -> Result<ChatResponse, ProviderError> {
        self.limiter.acquire().await;
        let answer = if keep_raw {
            self.inner.complete(request).await
        } else {
            self.inner.complete_without_raw(request).await
        };
        if let Ok(response) = &answer {
            self.limiter
                .observe(response.usage.as_ref(), response.rate_limits.as_deref());
        }
        answer
    }

    async fn stream_with(&self, request: &ChatRequest) -> Result<EventStream, ProviderError> {
        self.limiter.acquire().await;
        let events = self.inner.stream(request).await?;
        let limiter = self.limiter.clone();
        Ok(Box::pin(events.inspect(move |event| match event {
            Ok(StreamEvent::Usage(usage)) => limiter.observe(Some(usage), None),
            Ok(StreamEvent::RateLimits(limits)) => limiter.observe(None, Some(limits)),
            _ => {}
        })))
    }
}

impl Provider for Paced {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self, model: &str) -> Capabilities {
        self.inner.capabilities(model)
    }

    fn wire_body(&self, request: &ChatRequest) -> Option<serde_json::Value> {
        self.inner.wire_body(request)
    }

    fn redact(&self, text: &str) -> String {
        self.inner.redact(text)
    }

    fn redacted<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        self.inner.redacted(text)
    }

    fn redact_in_place(&self, text: &mut String) {
        self.inner.redact_in_place(text);
    }

    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(self.complete_with(request, true))
    }

    fn complete_without_raw<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(self.complete_with(request, false))
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, ProviderError>> {
        Box::pin(self.stream_with(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(total: u64) -> Usage {
        Usage {
            input_tokens: total,
            ..Usage::default()
        }
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn requests_per_minute_space_the_starts() {
        let limiter = Limiter::new(Limits {
            requests_per_minute: Some(60),
            tokens_per_minute: None,
        });
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        // Paused time moves only by the sleeps: the third start is two intervals in.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!(limiter.waits(), 2);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn no_requests_remaining_holds_until_the_reset() {
        let limiter = Limiter::new(Limits::default());
        limiter.acquire().await;
        let start = Instant::now();
        limiter.observe(
            None,
            Some(&RateLimits {
                requests_remaining: Some(0),
                requests_reset: Some(Duration::from_secs(7)),
                ..RateLimits::default()
            }),
        );
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn requests_remaining_are_not_a_wait() {
        let limiter = Limiter::new(Limits::default());
        let start = Instant::now();
        limiter.observe(
            Some(&usage(10)),
            Some(&RateLimits {
                requests_remaining: Some(3),
                tokens_remaining: Some(5_000),
                requests_reset: Some(Duration::from_secs(7)),
                tokens_reset: Some(Duration::from_secs(7)),
            }),
        );
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(limiter.waits(), 0);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn fewer_tokens_left_than_an_answer_takes_holds_until_the_token_reset() {
        let limiter = Limiter::new(Limits::default());
        let start = Instant::now();
        limiter.observe(
            Some(&usage(500)),
            Some(&RateLimits {
                tokens_remaining: Some(499),
                tokens_reset: Some(Duration::from_millis(1500)),
                ..RateLimits::default()
            }),
        );
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_spent_token_bucket_waits_for_its_refill() {
        // 6000 tokens a minute: 100 a second.
        let limiter = Limiter::new(Limits {
            requests_per_minute: None,
            tokens_per_minute: Some(6_000),
        });
        let start = Instant::now();
        limiter.acquire().await;
        limiter.observe(Some(&usage(6_099)), None);
        limiter.acquire().await;
        // 99 tokens below empty: one second of refill brings it just above.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }
}
