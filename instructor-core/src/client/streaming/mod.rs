//! Streamed extractions: typed partials ending in the validated value (`.partial()`),
//! and finished list items (`.iter()`). Both drive the same attempt engine as `.await`
//! and end each attempt by judging the assembled response exactly as a whole one, so
//! the same answer gives the same value or the same error whichever way it is asked
//! for. What streaming adds is only what is shown on the way: partials, or items.
//!
//! The streams own their state (the client is a cheap handle), so they are `Send`,
//! `'static` and `Unpin`: a web handler can return one, a spawned task can consume it,
//! and `while let Some(update) = stream.next().await` needs no `pin!`.

mod assemble;

use super::answer::{answer_text, raw_text, read_answer};
use super::attempt::{Engine, Verdict};
use super::request::WRAPPED;
use super::{Completion, Error};
use crate::chat::{EventStream, Mode, StreamEvent, ToolCall};
use crate::extract::Extract;
use crate::stream::{ItemStream, Limits, PartialStream};
use crate::validate::{AsyncValidator, Context};
use assemble::Assembled;
use futures_core::Stream;
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

/// One item of a partial extraction stream.
#[non_exhaustive]
pub enum PartialUpdate<T: Extract> {
    /// What has arrived so far (only when something visible changed), shared with the
    /// stream: cloning it or holding it costs a reference count. The stream copies the
    /// partial at its next change only while an update is still held, so a consumer
    /// that drops each update before polling the next never causes a copy; one that
    /// keeps every snapshot pays for each. `Arc::unwrap_or_clone` gives an owned
    /// `T::Partial` (without a copy when the stream has moved on).
    Partial(Arc<T::Partial>),
    /// What was shown so far is void: the answer starts over, because a transport
    /// failure broke the stream (the same attempt is sent again) or the answer was
    /// invalid (re-asked). The next partials belong to the new answer.
    Restarted {
        /// The attempt the next partials belong to.
        attempt: u32,
        /// Why, in words (the transport error, or the errors re-asked about).
        reason: String,
    },
    /// The validated value, with the response and the ledger: the last item.
    Done(Box<Completion<T>>),
}

impl<T: Extract> fmt::Debug for PartialUpdate<T>
where
    T::Partial: fmt::Debug,
    T: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartialUpdate::Partial(partial) => f.debug_tuple("Partial").field(partial).finish(),
            PartialUpdate::Restarted { attempt, reason } => f
                .debug_struct("Restarted")
                .field("attempt", attempt)
                .field("reason", reason)
                .finish(),
            PartialUpdate::Done(done) => f.debug_tuple("Done").field(done).finish(),
        }
    }
}

type BoxStream<I> = Pin<Box<dyn Stream<Item = I> + Send>>;

/// The stream of [`Extraction::partial`](super::Extraction::partial): `Send`,
/// `'static` and `Unpin`.
#[must_use = "a stream does nothing until polled"]
pub struct PartialUpdates<T: Extract> {
    inner: BoxStream<Result<PartialUpdate<T>, Error>>,
}

impl<T: Extract> Stream for PartialUpdates<T> {
    type Item = Result<PartialUpdate<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T: Extract> fmt::Debug for PartialUpdates<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PartialUpdates")
    }
}

/// The stream of [`Extraction::iter`](super::Extraction::iter): `Send`, `'static`
/// and `Unpin`.
#[must_use = "a stream does nothing until polled"]
pub struct Items<T: Extract> {
    inner: BoxStream<Result<T, Error>>,
}

impl<T: Extract> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T: Extract> fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Items")
    }
}

/// A streamed extraction's state; each step yields the next item, inside the
/// extraction's span.
trait Run: Send + 'static {
    type Item: Send + 'static;

    fn span(&self) -> tracing::Span;

    fn step(&mut self) -> impl std::future::Future<Output = Option<Self::Item>> + Send;
}

/// The stream of `run`'s items: owned, boxed, `Send`. The state is boxed once, so that
/// each step moves a pointer in and out of the step's future, not the whole engine.
fn drive<R: Run>(run: R) -> BoxStream<R::Item> {
    Box::pin(futures_util::stream::unfold(
        Box::new(run),
        |mut run| async move {
            let span = run.span();
            let item = run.step().instrument(span).await?;
            Some((item, run))
        },
    ))
}

impl<T: Extract> Run for PartialRun<T> {
    type Item = Result<PartialUpdate<T>, Error>;

    fn span(&self) -> tracing::Span {
        self.engine.span.clone()
    }

    fn step(&mut self) -> impl std::future::Future<Output = Option<Self::Item>> + Send {
        self.next_update()
    }
}

impl<T: Extract> Run for ItemRun<T> {
    type Item = Result<T, Error>;

    fn span(&self) -> tracing::Span {
        self.engine.span.clone()
    }

    fn step(&mut self) -> impl std::future::Future<Output = Option<Self::Item>> + Send {
        self.next_item()
    }
}

/// A stream that fails at once (the request could not be built).
fn failed<I: Send + 'static>(error: Error) -> BoxStream<Result<I, Error>> {
    Box::pin(futures_util::stream::once(async move { Err(error) }))
}

/// The part of an event that carries the answer's JSON text, by mode (the first
/// tool call's arguments in tool modes, the text otherwise).
fn payload(mode: Mode, event: &StreamEvent) -> Option<&str> {
    match event {
        StreamEvent::ToolArgumentsDelta {
            index: 0, delta, ..
        } if mode.uses_tools() => Some(delta),
        StreamEvent::TextDelta(text) if !mode.uses_tools() => Some(text),
        _ => None,
    }
}

/// The reader of partials for `T` in `mode` (previews only: the value itself is read
/// from the whole answer at the end, so the preview keeps no copy of the text).
fn preview<T: Extract>(spec: &crate::chat::OutputSpec) -> PartialStream<T> {
    let stream = if spec.mode.is_prompted() {
        PartialStream::lenient(Limits::default())
    } else if spec.wraps_root() {
        PartialStream::new().unwrapping(WRAPPED)
    } else {
        PartialStream::new()
    };
    stream.preview_only()
}

/// The stream of one attempt and the response it assembles.
struct Wire {
    events: Option<EventStream>,
    assembled: Assembled,
    /// `begin_attempt` ran for the attempt in flight.
    attempt_open: bool,
}

enum Step {
    /// An event of the attempt in flight.
    Event(StreamEvent),
    /// The stream broke off with this failure; the caller decides whether to retry.
    Broken(crate::chat::ProviderError),
    /// A fallback chain's provider broke off with this failure in the middle of the
    /// answer, and the next one answers from the start (the attempt goes on): the
    /// caller starts over, or gives up if what it showed cannot be taken back.
    FailedOver(crate::chat::ProviderError),
    /// The attempt's answer is complete: [`Wire::response`] gives it (once the caller
    /// has dropped what it no longer needs, such as the preview).
    End,
}

impl Wire {
    fn new() -> Self {
        Wire {
            events: None,
            assembled: Assembled::default(),
            attempt_open: false,
        }
    }

    /// The next step of the attempt in flight, opening (and starting the attempt)
    /// as needed; transport failures retried by the engine.
    async fn next<V>(&mut self, engine: &mut Engine<V>) -> Result<Step, Error> {
        loop {
            let Some(events) = &mut self.events else {
                if !self.attempt_open {
                    engine.begin_attempt()?;
                    self.attempt_open = true;
                }
                self.events = Some(engine.open_stream().await?);
                self.assembled = Assembled::default();
                continue;
            };
            let failure = match engine.next_event(events).await? {
                Some(Ok(StreamEvent::Provider { name, failed_over }))
                    if self.assembled.has_content() =>
                {
                    let failure = failed_over.last().map(|link| link.error.clone());
                    self.assembled = Assembled::default();
                    let _ = self
                        .assembled
                        .apply(&StreamEvent::Provider { name, failed_over });
                    return Ok(match failure {
                        Some(failure) => Step::FailedOver(failure),
                        None => Step::Broken(crate::chat::ProviderError::Decode {
                            message: "the fallback chain started over without a failure".to_owned(),
                            body: String::new(),
                        }),
                    });
                }
                Some(Ok(event)) => match self.assembled.apply(&event) {
                    Ok(()) => return Ok(Step::Event(event)),
                    Err(error) => error,
                },
                None => {
                    self.events = None;
                    self.attempt_open = false;
                    return Ok(Step::End);
                }
                Some(Err(error)) => error,
            };
            self.events = None;
            return Ok(Step::Broken(failure));
        }
    }
}

impl Wire {
    /// The response of the attempt that ended ([`Step::End`]): assembled, then
    /// received by the engine.
    fn response<V>(&mut self, engine: &mut Engine<V>) -> crate::chat::ChatResponse {
        let assembled = std::mem::take(&mut self.assembled);
        let mut response = assembled.into_response(&engine.request.model);
        engine.received(&mut response);
        response
    }
}

struct PartialRun<T: Extract> {
    engine: Engine<T>,
    wire: Wire,
    preview: PartialStream<T>,
    /// Partials are still shown (the preview has not met something it cannot read).
    previewing: bool,
    notice: Option<PartialUpdate<T>>,
    done: bool,
    /// `partial_throttled`: at most one partial per window.
    throttle: Option<Throttle>,
}

/// At most one partial per `interval`: a change inside the window is held (as a flag,
/// not a snapshot, so the stream never copies the partial for it) and shown when the
/// window ends, by a timer, whether or not more text has arrived by then.
struct Throttle {
    interval: Duration,
    /// When the last partial was shown (`None`: none yet in this attempt).
    shown_at: Option<Instant>,
    /// A visible change not shown yet.
    pending: bool,
}

impl Throttle {
    fn new(interval: Duration) -> Self {
        Throttle {
            interval,
            shown_at: None,
            pending: false,
        }
    }

    /// When the window of the last partial shown ends: `None` while none was shown in
    /// this answer, or for an interval too long to add to the clock (then the window
    /// lasts to the end of the answer).
    fn window_end(&self) -> Option<Instant> {
        self.shown_at?.checked_add(self.interval)
    }

    /// Whether a change may be shown now; if so, it counts as shown, else it is held.
    fn admit(&mut self) -> bool {
        let now = Instant::now();
        let open = self.shown_at.is_none() || self.window_end().is_some_and(|end| now >= end);
        if open {
            self.shown_at = Some(now);
        }
        self.pending = !open;
        open
    }

    /// When the change held is due to be shown (`None`: nothing held, or held to the
    /// end of the answer).
    fn due(&self) -> Option<Instant> {
        self.window_end().filter(|_| self.pending)
    }

    fn shown(&mut self) {
        self.shown_at = Some(Instant::now());
        self.pending = false;
    }

    /// A new answer: its first partial is shown at once.
    fn reset(&mut self) {
        self.shown_at = None;
        self.pending = false;
    }
}

/// What came first: the attempt's next step, or the end of the throttle's window.
enum Raced {
    Step(Result<Step, Error>),
    WindowEnded,
}

/// The attempt's next step, unless `due` comes first. Only called while the attempt's
/// stream is open, where the step waits on the next event alone (`StreamExt::next`
/// under the deadline), so dropping it at the window's end loses nothing.
async fn next_before<V>(wire: &mut Wire, engine: &mut Engine<V>, due: Instant) -> Raced {
    let next = std::pin::pin!(wire.next(engine));
    let window = std::pin::pin!(tokio::time::sleep_until(due));
    match futures_util::future::select(next, window).await {
        futures_util::future::Either::Left((step, _)) => Raced::Step(step),
        futures_util::future::Either::Right(((), _)) => Raced::WindowEnded,
    }
}

impl<T: Extract> PartialRun<T> {
    async fn next_update(&mut self) -> Option<Result<PartialUpdate<T>, Error>> {
        loop {
            if let Some(notice) = self.notice.take() {
                return Some(Ok(notice));
            }
            if self.done {
                return None;
            }
            let due = match &self.throttle {
                Some(throttle) if self.wire.events.is_some() => throttle.due(),
                _ => None,
            };
            let next = match due {
                None => self.wire.next(&mut self.engine).await,
                Some(due) => match next_before(&mut self.wire, &mut self.engine, due).await {
                    Raced::Step(next) => next,
                    Raced::WindowEnded => {
                        // The change held back: shown now (a reference count).
                        if let Some(throttle) = &mut self.throttle {
                            throttle.shown();
                        }
                        if let Some(partial) = self.preview.shared() {
                            return Some(Ok(PartialUpdate::Partial(partial)));
                        }
                        continue;
                    }
                },
            };
            let step = match next {
                Ok(step) => step,
                Err(error) => return self.fail(error),
            };
            match step {
                Step::Event(event) => {
                    let mode = self.engine.spec.mode;
                    if matches!(&event, StreamEvent::ToolArgumentsDelta { index, .. } if *index > 0)
                        && mode != Mode::ParallelTools
                    {
                        // A second call: the answer is judged as a whole at the end.
                        self.previewing = false;
                    }
                    if !self.previewing {
                        continue;
                    }
                    let Some(text) = payload(mode, &event) else {
                        continue;
                    };
                    let fed = self
                        .preview
                        .feed(text.as_bytes())
                        .map(|shown| shown.is_some());
                    match fed {
                        // Inside the throttle's window: held until it ends.
                        Ok(true) if self.throttle.as_mut().is_some_and(|t| !t.admit()) => {}
                        Ok(true) => {
                            // A reference count, not a copy of the partial.
                            if let Some(partial) = self.preview.shared() {
                                return Some(Ok(PartialUpdate::Partial(partial)));
                            }
                        }
                        Ok(false) => {}
                        // Keep reading to the end: the finish reason and the usage
                        // decide, and the whole answer is judged there.
                        Err(_) => self.previewing = false,
                    }
                }
                Step::Broken(failure) => {
                    let reason = self.engine.provider.redact(&failure.to_string());
                    if let Err(error) = self.engine.transport_failure(failure).await {
                        return self.fail(error);
                    }
                    self.restart(reason);
                }
                // The next provider of the chain answers from the start.
                Step::FailedOver(failure) => {
                    let reason = self.engine.provider.redact(&failure.to_string());
                    self.restart(reason);
                }
                Step::End => {
                    // The previews are over: their state goes before the response is
                    // assembled and the value read.
                    self.preview = preview::<T>(&self.engine.spec);
                    let response = self.wire.response(&mut self.engine);
                    let answer = read_answer::<T>(&self.engine.spec, &response);
                    match self.engine.judge(response, answer).await {
                        Verdict::Done(done) => {
                            self.done = true;
                            return Some(Ok(PartialUpdate::Done(Box::new(done))));
                        }
                        Verdict::Again(reason) => self.restart(reason),
                        Verdict::Fail(error) => return self.fail(error),
                    }
                }
            }
        }
    }

    /// The partials start over; the stream says so before the first new one.
    fn restart(&mut self, reason: String) {
        self.preview = preview::<T>(&self.engine.spec);
        self.previewing = true;
        if let Some(throttle) = &mut self.throttle {
            // What was held belongs to the answer that is void.
            throttle.reset();
        }
        let attempt = if self.wire.attempt_open {
            self.engine.number
        } else {
            self.engine.number + 1
        };
        self.notice = Some(PartialUpdate::Restarted { attempt, reason });
    }

    fn fail(&mut self, error: Error) -> Option<Result<PartialUpdate<T>, Error>> {
        self.done = true;
        Some(Err(self.engine.fail(error)))
    }
}

pub(super) fn partial_stream<T: Extract>(
    engine: Result<Engine<T>, Error>,
    throttle: Option<Duration>,
) -> PartialUpdates<T> {
    let engine = match engine {
        Ok(engine) => engine,
        Err(error) => {
            return PartialUpdates {
                inner: failed(error),
            };
        }
    };
    let run = PartialRun {
        preview: preview::<T>(&engine.spec),
        engine,
        wire: Wire::new(),
        previewing: true,
        notice: None,
        done: false,
        throttle: throttle.map(Throttle::new),
    };
    PartialUpdates { inner: drive(run) }
}

/// `.iter()`: an attempt whose items were shown is not re-asked (the caller has the
/// items already); an attempt that showed nothing (prose, an empty answer, a fenced
/// list the item reader cannot follow) is judged whole like `.await` of `Vec<T>`.
struct ItemRun<T: Extract> {
    engine: Engine<Vec<T>>,
    wire: Wire,
    items: ItemStream<T>,
    /// The item reader met something it cannot read: wait for the whole answer.
    items_broken: bool,
    context: Context,
    validators: Vec<Arc<dyn AsyncValidator<T>>>,
    ready: VecDeque<Result<T, Error>>,
    /// Items (or item errors) shown in the attempt in flight.
    shown: usize,
    /// `ParallelTools`: calls already turned into items.
    calls_done: usize,
    done: bool,
}

impl<T: Extract> ItemRun<T> {
    async fn next_item(&mut self) -> Option<Result<T, Error>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(self.checked(item).await);
            }
            if self.done {
                return None;
            }
            let step = match self.wire.next(&mut self.engine).await {
                Ok(step) => step,
                Err(error) => return self.fail(error),
            };
            match step {
                Step::Event(event) => self.on_event(&event),
                Step::Broken(failure) => {
                    if self.shown > 0 || !self.ready.is_empty() {
                        // Starting over would show the items again: not retried.
                        let error = self.engine.give_up(failure);
                        return self.fail(error);
                    }
                    if let Err(error) = self.engine.transport_failure(failure).await {
                        return self.fail(error);
                    }
                    self.reset();
                }
                Step::FailedOver(failure) => {
                    if self.shown > 0 || !self.ready.is_empty() {
                        // Starting over would show the items again.
                        let error = self.engine.give_up(failure);
                        return self.fail(error);
                    }
                    // Nothing shown: the next provider's list is read from the start.
                    self.reset();
                }
                Step::End => {
                    let response = self.wire.response(&mut self.engine);
                    self.on_end(response).await;
                }
            }
        }
    }

    fn on_event(&mut self, event: &StreamEvent) {
        let mode = self.engine.spec.mode;
        if mode == Mode::ParallelTools {
            // A call is complete once the next one starts.
            if let StreamEvent::ToolArgumentsDelta { index, .. } = event {
                let calls: Vec<ToolCall> = self
                    .wire
                    .assembled
                    .calls
                    .iter()
                    .enumerate()
                    .skip(self.calls_done)
                    .take(index.saturating_sub(self.calls_done))
                    .map(|(i, call)| ToolCall {
                        id: call.id.clone().unwrap_or_else(|| format!("call_{i}")),
                        name: call.name.clone().unwrap_or_default(),
                        arguments: call.arguments.as_str().into(),
                    })
                    .collect();
                for call in calls {
                    self.queue_call(&call);
                }
            }
            return;
        }
        if self.items_broken {
            return;
        }
        let Some(text) = payload(mode, event) else {
            return;
        };
        match self.items.feed(text.as_bytes()) {
            Ok(done) => self.queue(done),
            Err(_) => self.items_broken = true,
        }
    }

    async fn on_end(&mut self, response: crate::chat::ChatResponse) {
        if self.shown == 0 && self.ready.is_empty() {
            // Nothing shown: judge the whole answer as `.await` would.
            let answer = read_answer::<Vec<T>>(&self.engine.spec, &response);
            match self.engine.judge(response, answer).await {
                Verdict::Done(done) => {
                    self.ready.extend(done.value.into_iter().map(Ok));
                    self.done = true;
                }
                Verdict::Again(_) => self.reset(),
                Verdict::Fail(error) => {
                    let error = self.engine.fail(error);
                    self.ready.push_back(Err(error));
                    self.done = true;
                }
            }
            return;
        }
        // Items were shown: the rest of the list, then how the answer ended.
        if self.engine.spec.mode == Mode::ParallelTools {
            for call in response.tool_calls.iter().skip(self.calls_done) {
                self.queue_call(call);
            }
        } else if !self.items_broken {
            let items = std::mem::replace(&mut self.items, ItemStream::new(Context::new()));
            match items.finish() {
                Ok(done) => self.queue(done),
                Err(error) => self.ready.push_back(Err(Error::Item {
                    index: self.shown + self.ready.len(),
                    message: error.to_string(),
                })),
            }
        } else {
            // The item reader stopped on something the whole reading accepts (or
            // not): the items not yet handed out come from the whole answer, as
            // `.await` reads it, so none is lost.
            let handed = self.shown + self.ready.len();
            let answer = read_answer::<Vec<T>>(&self.engine.spec, &response);
            match answer.value {
                Ok(list) => {
                    for (index, item) in list.into_iter().enumerate().skip(handed) {
                        self.ready
                            .push_back(item.validate(&self.context).map(|()| item).map_err(
                                |errors| Error::Item {
                                    index,
                                    message: errors.to_string(),
                                },
                            ));
                    }
                }
                Err(failure) => self.ready.push_back(Err(Error::Item {
                    index: handed,
                    message: failure.to_string(),
                })),
            }
        }
        let raw = raw_text(&self.engine.spec, &response);
        if let Err(error) = self.engine.settle(&response, raw.clone()) {
            let error = self.engine.fail(error);
            self.ready.push_back(Err(error));
        } else if let Err(message) = answer_text(&self.engine.spec, &response) {
            // The same shape rule as a whole answer (one call of the offered tool),
            // though the first call's items were shown on the way.
            let error = Error::Parse {
                message,
                raw_output: raw.as_deref().map(str::to_owned),
                ledger: std::mem::take(&mut self.engine.ledger),
            };
            let error = self.engine.fail(error);
            self.ready.push_back(Err(error));
        }
        self.done = true;
    }

    /// Starts the list over (nothing of it was shown).
    fn reset(&mut self) {
        self.items = ItemStream::new(self.context.clone());
        self.items_broken = false;
        self.calls_done = 0;
    }

    fn queue(&mut self, done: Vec<Result<T, crate::stream::ItemError>>) {
        for item in done {
            self.ready.push_back(item.map_err(|error| Error::Item {
                index: error.index,
                message: error.error.to_string(),
            }));
        }
    }

    /// `ParallelTools`: one call as one item of the enum, validated.
    fn queue_call(&mut self, call: &ToolCall) {
        let index = self.calls_done;
        self.calls_done += 1;
        let item = read_answer::<Vec<T>>(
            &self.engine.spec,
            &crate::chat::ChatResponse {
                tool_calls: vec![call.clone()],
                ..Default::default()
            },
        );
        let item = match item.value {
            Ok(mut items) if items.len() == 1 => match items.pop() {
                Some(item) => item
                    .validate(&self.context)
                    .map(|()| item)
                    .map_err(|errors| errors.to_string()),
                None => Err("no item".to_owned()),
            },
            Ok(_) => Err("no item".to_owned()),
            Err(failure) => Err(failure.to_string()),
        };
        self.ready
            .push_back(item.map_err(|message| Error::Item { index, message }));
    }

    /// An item about to be shown: async validators run on it first (within the
    /// deadline).
    async fn checked(&mut self, item: Result<T, Error>) -> Result<T, Error> {
        self.shown += 1;
        let index = self.shown - 1;
        let value = match item {
            Ok(value) => value,
            Err(error) => return Err(self.engine.with_late_calls(error)),
        };
        // The item passed its rules; read them again to note the LLM checks they ask
        // for (none outside an extraction's validation).
        let mut context = self.context.clone();
        let pending = crate::validate::PendingChecks::default();
        context.llm_checks = Some(pending.clone());
        let _ = value.validate(&context);
        context.llm_checks = None;
        let checks = pending.take();
        if self.validators.is_empty() && checks.is_empty() {
            return Ok(value);
        }
        let calls = self.engine.validation_calls();
        context.insert(calls.clone());
        let judge = self.engine.judge_for(&checks);
        let validators = &self.validators;
        let validation = async {
            super::llm_validator::check_async(&value, &context, validators, checks, judge.as_ref())
                .await
                .map(|()| value)
        };
        let result = self.engine.within(validation).await;
        self.engine.record_validation_calls(&calls);
        match result {
            Some(Ok(value)) => Ok(value),
            Some(Err(errors)) => Err(Error::Item {
                index,
                message: errors.to_string(),
            }),
            None => {
                self.done = true;
                self.ready.clear();
                let error = self.engine.timed_out("in validation");
                Err(self.engine.fail(error))
            }
        }
    }

    fn fail(&mut self, error: Error) -> Option<Result<T, Error>> {
        self.done = true;
        Some(Err(self.engine.fail(error)))
    }
}

pub(super) fn item_stream<T: Extract>(
    engine: Result<Engine<Vec<T>>, Error>,
    context: Context,
    validators: Vec<Arc<dyn AsyncValidator<T>>>,
) -> Items<T> {
    let engine = match engine {
        Ok(engine) => engine,
        Err(error) => {
            return Items {
                inner: failed(error),
            };
        }
    };
    let run = ItemRun {
        engine,
        wire: Wire::new(),
        items: ItemStream::new(context.clone()),
        items_broken: false,
        context,
        validators,
        ready: VecDeque::new(),
        shown: 0,
        calls_done: 0,
        done: false,
    };
    Items { inner: drive(run) }
}
