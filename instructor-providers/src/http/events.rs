//! One driver from the bytes of a server-sent-events answer to neutral events, shared by
//! every provider: the bytes are split into SSE events in place, each event is handed
//! (borrowed) to the provider's [`EventMapper`], and the neutral events it gives wait in
//! one queue reused for the whole stream. Errors are redacted here, once, for every
//! provider.

use super::redact::Redactor;
use crate::sse::{SseDecoder, SseError, SseEventRef};
use futures_core::Stream;
use instructor_core::chat::{EventStream, ProviderError, StreamEvent};
use std::collections::VecDeque;

/// What follows an SSE event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Read on.
    Continue,
    /// The answer is over (`[DONE]`, `message_stop`): nothing after it is read.
    Done,
}

/// A provider's reading of its stream: one SSE event at a time.
pub(crate) trait EventMapper: Send + Unpin + 'static {
    /// Maps one SSE event, queueing the neutral events it gives (redacted) on `out`.
    /// On an error nothing of the event should be queued.
    fn on_event(
        &mut self,
        event: &SseEventRef<'_>,
        out: &mut VecDeque<Result<StreamEvent, ProviderError>>,
        redactor: &Redactor,
    ) -> Result<Flow, ProviderError>;

    /// The bytes ended (without [`Flow::Done`]): an error unless the answer was
    /// complete.
    fn on_end(&self) -> Option<ProviderError>;
}

/// The neutral events of the SSE answer `bytes`, read by `mapper`.
pub(crate) fn map_sse<S, B, M>(bytes: S, mapper: M, redactor: Redactor) -> EventStream
where
    S: Stream<Item = Result<B, ProviderError>> + Send + 'static,
    B: AsRef<[u8]> + 'static,
    M: EventMapper,
{
    Box::pin(SseEvents {
        bytes: Box::pin(bytes),
        decoder: SseDecoder::new(),
        mapper,
        ready: VecDeque::new(),
        redactor,
        stopped: false,
    })
}

/// The stream of [`map_sse`].
struct SseEvents<S, M> {
    bytes: std::pin::Pin<Box<S>>,
    decoder: SseDecoder,
    mapper: M,
    ready: VecDeque<Result<StreamEvent, ProviderError>>,
    redactor: Redactor,
    /// The answer's end, an error, or the end of the bytes: nothing more is read.
    stopped: bool,
}

impl<S, M: EventMapper> SseEvents<S, M> {
    /// Reads the events `bytes` completes (or, with `None`, the bytes' end).
    fn read(&mut self, bytes: Option<&[u8]>) {
        let SseEvents {
            decoder,
            mapper,
            ready,
            redactor,
            stopped,
            ..
        } = self;
        let mut on_event = |item: Result<SseEventRef<'_>, SseError>| {
            if *stopped {
                return;
            }
            let error = match item {
                Ok(event) => match mapper.on_event(&event, ready, redactor) {
                    Ok(Flow::Continue) => return,
                    Ok(Flow::Done) => {
                        *stopped = true;
                        return;
                    }
                    Err(error) => error,
                },
                // An unreadable event: nothing after it can be trusted.
                Err(error) => error.into(),
            };
            ready.push_back(Err(redactor.error(error)));
            *stopped = true;
        };
        match bytes {
            Some(bytes) => decoder.feed_with(bytes, on_event),
            None => {
                decoder.finish_with(&mut on_event);
                if !*stopped {
                    *stopped = true;
                    if let Some(error) = mapper.on_end() {
                        ready.push_back(Err(redactor.error(error)));
                    }
                }
            }
        }
    }
}

impl<S, B, M> Stream for SseEvents<S, M>
where
    S: Stream<Item = Result<B, ProviderError>>,
    B: AsRef<[u8]>,
    M: EventMapper,
{
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.ready.pop_front() {
                return std::task::Poll::Ready(Some(item));
            }
            if this.stopped {
                return std::task::Poll::Ready(None);
            }
            match std::task::ready!(this.bytes.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => this.read(Some(chunk.as_ref())),
                Some(Err(error)) => {
                    // A broken connection: the stream ends with the error.
                    this.ready.push_back(Err(this.redactor.error(error)));
                    this.stopped = true;
                }
                None => this.read(None),
            }
        }
    }
}
