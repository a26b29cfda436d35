//! Sending: `provider.complete` and `provider.stream` with transport failures retried
//! (backoff with jitter, `retry-after` honoured up to a bound), never past the
//! deadline. Transport failures never enter the conversation and never use up
//! re-asks; each one is counted on the attempt in flight.

use super::attempt::Engine;
use super::error::Error;
use super::hooks::HookEvent;
use super::retry::AfterFailure;
use crate::chat::{ChatResponse, EventStream, ProviderError, StreamEvent};
use futures_util::StreamExt;
use tracing::Instrument;

impl<V> Engine<V> {
    /// One whole response for the attempt in flight.
    pub(super) async fn complete(&mut self) -> Result<ChatResponse, Error> {
        loop {
            let span = self.attempt_span.clone();
            let call = if self.keep_raw {
                self.provider.complete(&self.request)
            } else {
                self.provider.complete_without_raw(&self.request)
            };
            let call = call.instrument(span);
            match self.within(call).await {
                None => return Err(self.timed_out("waiting for the response")),
                Some(Ok(response)) => return Ok(response),
                Some(Err(error)) => self.transport_failure(error).await?,
            }
        }
    }

    /// The event stream of the attempt in flight (opening retried like `complete`).
    pub(super) async fn open_stream(&mut self) -> Result<EventStream, Error> {
        loop {
            let span = self.attempt_span.clone();
            let call = self.provider.stream(&self.request).instrument(span);
            match self.within(call).await {
                None => return Err(self.timed_out("waiting for the stream to open")),
                Some(Ok(events)) => return Ok(events),
                Some(Err(error)) => self.transport_failure(error).await?,
            }
        }
    }

    /// The next event of `events`, or `None` at its end; the deadline bounds the wait.
    pub(super) async fn next_event(
        &mut self,
        events: &mut EventStream,
    ) -> Result<Option<Result<StreamEvent, ProviderError>>, Error> {
        match self.within(events.next()).await {
            Some(next) => Ok(next),
            None => Err(self.timed_out("in the middle of the stream")),
        }
    }

    /// Ends the extraction with a transport failure, not retried.
    pub(super) fn give_up(&mut self, error: ProviderError) -> Error {
        self.record_provider_failure(&error);
        Error::Provider {
            error: Box::new(error),
            ledger: std::mem::take(&mut self.ledger),
        }
    }

    /// A transport failure of the attempt in flight: `Ok` once it is worth trying
    /// again (after the wait), or the error that ends the extraction (the failed
    /// attempt in its ledger).
    pub(super) async fn transport_failure(&mut self, error: ProviderError) -> Result<(), Error> {
        let wait = match self
            .policy
            .after(&error, self.transport_retries, self.deadline)
        {
            // Refused by the provider before anything was sent (a schema its dialect
            // cannot express): the request is invalid, no attempt was made.
            AfterFailure::Invalid(reason) => {
                return Err(Error::InvalidRequest {
                    reason: self.provider.redact(&reason),
                });
            }
            AfterFailure::GiveUp => return Err(self.give_up(error)),
            AfterFailure::PastDeadline(wait) => {
                return Err(self.timed_out(&format!(
                    "before a retry: {error}; the wait of {wait:?} passes the deadline"
                )));
            }
            AfterFailure::Wait(wait) => wait,
        };
        let stop = self.hooks.emit(&HookEvent::TransportRetry {
            attempt: self.number,
            error: &error,
            wait,
        });
        self.noted(stop);
        if let Some(reason) = self.stop.take() {
            self.record_provider_failure(&error);
            return Err(self.stopped(reason, None, None));
        }
        self.transport_retries += 1;
        tokio::time::sleep(wait).await;
        Ok(())
    }
}
