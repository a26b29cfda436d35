//! Typed streams over the parser: snapshots of `T::Partial` while the document grows,
//! finer field events, and the validated `T` at the end.

use super::gate::Gate;
use super::lenient::{Lenient, read_with};
use super::parser::{EventSink, FeedError, Limits, ParseError, ParseErrorKind, Parser};
use crate::extract::{DeserializeError, Extract};
use crate::partial::{Changed, Event, HasPartial, PartialError, PathSegment, Scratch};
use crate::path::WirePath;
use crate::validate::{Context, ValidationErrors};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a stream did not produce a valid `T`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The text is not JSON (or broke a limit).
    #[error("invalid JSON: {0}")]
    Parse(#[from] ParseError),
    /// A value has the wrong type for its field (seen while streaming).
    #[error("{}", PartialAt { path, error })]
    Partial {
        /// Where, in wire names, from the root of the value (the error's own path is
        /// relative to the part that reported it, so only this one is printed).
        path: WirePath,
        /// What was wrong.
        error: PartialError,
    },
    /// The complete document is not a `T`.
    #[error("{0}")]
    Deserialize(#[from] DeserializeError),
    /// The complete `T` failed validation.
    #[error("{0}")]
    Validation(#[from] ValidationErrors),
}

/// Prints a partial error at its absolute path, once: `items[0].n: expected ...`.
struct PartialAt<'a> {
    path: &'a WirePath,
    error: &'a PartialError,
}

impl std::fmt::Display for PartialAt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_root() {
            write!(f, "{}", self.error.reason())
        } else {
            write!(f, "{}: {}", self.path, self.error.reason())
        }
    }
}

/// What changed at a path, for UIs that update exactly what changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldEvent<'a> {
    /// The string at `path` grew by `text`.
    Grew {
        /// The string's path.
        path: &'a [PathSegment],
        /// The new characters.
        text: &'a str,
    },
    /// The value at `path` is complete: a field when the path ends in a key, a list
    /// item when it ends in an index.
    Completed {
        /// The value's path.
        path: &'a [PathSegment],
    },
}

impl FieldEvent<'_> {
    /// The path the event concerns.
    pub fn path(&self) -> &[PathSegment] {
        match self {
            FieldEvent::Grew { path, .. } | FieldEvent::Completed { path } => path,
        }
    }

    /// The path as an owned [`WirePath`], printed like every error's path
    /// (`sections[1].title`). The event borrows its path from the parser, so that no
    /// event allocates; take this to keep it.
    pub fn wire_path(&self) -> WirePath {
        WirePath::from(self.path())
    }

    /// For a completed list item, its index.
    pub fn completed_item(&self) -> Option<usize> {
        match self {
            FieldEvent::Completed { path } => match path.last() {
                Some(PathSegment::Index(index)) => Some(*index),
                _ => None,
            },
            FieldEvent::Grew { .. } => None,
        }
    }
}

/// At most one snapshot per so many bytes or per interval (for UIs rendering at
/// screen rate). The last state is never lost: [`PartialStream::partial`] always has
/// it, and `finish` returns the whole value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coalesce {
    /// Minimum bytes between two snapshots.
    pub bytes: Option<usize>,
    /// Minimum time between two snapshots.
    pub interval: Option<Duration>,
}

/// The default: a snapshot at every change.
const NO_COALESCING: Coalesce = Coalesce {
    bytes: None,
    interval: None,
};

/// A stream of `T::Partial` snapshots over a JSON document arriving in chunks, ending
/// in the validated `T`. Each byte is parsed once; the partial is updated in place.
///
/// ```
/// use instructor_core::{Context, stream::PartialStream};
/// use instructor_macros::Extract;
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize, Extract)]
/// #[extract(crate = "instructor_core")]
/// struct Ticket { title: String, priority: u8 }
///
/// let mut stream = PartialStream::<Ticket>::new();
/// let mut seen = Vec::new();
/// for chunk in [r#"{"title": "Log"#, r#"in fails", "prio"#, r#"rity": 4"#, "2}"] {
///     if let Some(partial) = stream.feed(chunk.as_bytes()).unwrap() {
///         seen.push((partial.title.clone(), partial.priority));
///     }
/// }
/// // Strings grow; the number shows only once complete: never 4 on the way to 42.
/// assert_eq!(seen[0], (Some("Log".to_owned()), None));
/// assert_eq!(seen[1], (Some("Login fails".to_owned()), None));
/// assert_eq!(seen[2], (Some("Login fails".to_owned()), Some(42)));
/// let ticket = stream.finish(&Context::new()).unwrap();
/// assert_eq!(ticket.priority, 42);
/// ```
pub struct PartialStream<T: Extract> {
    parser: Parser,
    /// Shared, so that a snapshot ([`PartialStream::shared`]) costs a reference count;
    /// the next change copies the partial only while such a snapshot is still held.
    partial: Held<T::Partial>,
    scratch: Scratch,
    /// The document (strict mode: deserialized by serde at the end) or the whole
    /// answer (lenient mode: read by `read_lenient` at the end). Not kept by a
    /// preview stream (see [`PartialStream::preview_only`]).
    raw: Vec<u8>,
    /// Bytes fed so far (lenient mode's size limit).
    seen: u64,
    /// Keep `raw` (a preview whose value is read elsewhere does not need it).
    keep_raw: bool,
    /// Lenient mode: what finds the value to preview in the answer.
    lenient: Option<LenientState>,
    /// The value sits under this key of a wrapper object (`{"value": ...}`, how strict
    /// dialects carry a non-object root).
    unwrap_key: Option<String>,
    coalesce: Coalesce,
    /// `coalesce` holds changes back.
    coalescing: bool,
    pending_change: bool,
    bytes_since_snapshot: usize,
    last_snapshot: Option<Instant>,
}

#[derive(Debug)]
struct LenientState {
    gate: Gate,
    limits: Limits,
    /// The value being previewed has members or elements (an empty one, like a `[]`
    /// mentioned in prose, gives way to the next value).
    non_empty: bool,
}

impl<T: Extract> Default for PartialStream<T> {
    fn default() -> Self {
        PartialStream::with_limits(Limits::default())
    }
}

impl<T: Extract> std::fmt::Debug for PartialStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartialStream")
            .field("partial", &self.partial)
            .field("bytes", &self.raw.len())
            .finish()
    }
}

impl<T: Extract> PartialStream<T> {
    /// A stream with the default parser limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A stream with the given parser limits.
    pub fn with_limits(limits: Limits) -> Self {
        PartialStream {
            parser: Parser::with_limits(limits),
            partial: Held::Nothing,
            scratch: Scratch::default(),
            raw: Vec::new(),
            seen: 0,
            keep_raw: true,
            lenient: None,
            unwrap_key: None,
            coalesce: Coalesce::default(),
            coalescing: false,
            pending_change: false,
            bytes_since_snapshot: 0,
            last_snapshot: None,
        }
    }

    /// A stream for prompted answers (JSON and markdown modes, weak or local models).
    ///
    /// The end reads the whole answer as [`read_lenient`](super::read_lenient) does
    /// (one pass, with these limits), so the value or the error is the same as for
    /// the whole text, in any chunking. The partials preview it: each byte is looked at
    /// once, the JSON is found in prose, fences and after `<think>` blocks and parsed
    /// leniently; a better value found later (a fenced one after one in prose) starts
    /// the partial over. A field whose value needs coercion appears in the partial
    /// only in the final value. [`PartialStream::finish_lenient`] returns what was
    /// repaired. Feeding never fails on the text, only on [`Limits::max_bytes`].
    pub fn lenient(limits: Limits) -> Self {
        PartialStream {
            parser: Parser::lenient(limits),
            lenient: Some(LenientState {
                gate: Gate::default(),
                limits,
                non_empty: false,
            }),
            ..PartialStream::with_limits(limits)
        }
    }

    /// Reads the value from under `key` of a wrapper object (`{"value": [...]}`), the
    /// way strict dialects carry a list, an option or a primitive. Strict mode only.
    pub fn unwrapping(mut self, key: impl Into<String>) -> Self {
        self.unwrap_key = Some(key.into());
        self
    }

    /// A stream that only previews: the text is not kept, so the stream holds its
    /// parser state and the partial, not a copy of the document. For callers that
    /// keep the text themselves and read the value from it (the client does, from the
    /// assembled response). [`PartialStream::finish`] of such a stream reads nothing:
    /// it is an error (strict mode) or reads an empty answer (lenient mode).
    pub fn preview_only(mut self) -> Self {
        self.keep_raw = false;
        self.raw = Vec::new();
        self
    }

    /// Emits at most one snapshot per `coalesce` window.
    pub fn coalesce(mut self, coalesce: Coalesce) -> Self {
        self.coalesce = coalesce;
        self.coalescing = coalesce != NO_COALESCING;
        self
    }

    /// The partial as it stands (the latest state, coalesced or not).
    pub fn partial(&self) -> Option<&T::Partial> {
        self.partial.get()
    }

    /// The partial as it stands, shared: a reference count, never a copy. The stream
    /// copies the partial at its next change only while this snapshot is still held,
    /// so a consumer that drops each snapshot before feeding on never causes a copy.
    pub fn shared(&mut self) -> Option<Arc<T::Partial>> {
        self.partial.share()
    }

    /// Runs the validation rules on the fields that are complete so far (a field still
    /// streaming is never judged): a caller may stop a stream that is already wrong
    /// instead of paying for the rest of it. Costs a walk over the partial; call it
    /// when a field completes (see [`PartialStream::feed_with_events`]), not per byte.
    pub fn validate_partial(&self, context: &Context) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Some(partial) = self.partial.get() {
            T::validate_partial(partial, context, &mut WirePath::root(), &mut errors);
        }
        errors.into_result()
    }

    /// Feeds a chunk; returns the partial when something visible changed (and the
    /// coalescing window allows a snapshot).
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Option<&T::Partial>, StreamError> {
        self.feed_with_events(chunk, |_| {})
    }

    /// Feeds a chunk and reports each [`FieldEvent`] to `on_event` as it happens.
    #[inline]
    pub fn feed_with_events(
        &mut self,
        chunk: &[u8],
        mut on_event: impl FnMut(FieldEvent<'_>),
    ) -> Result<Option<&T::Partial>, StreamError> {
        match self.continue_string(chunk, &mut on_event) {
            Some(Ok(true)) => Ok(self.partial.get()),
            Some(Ok(false)) => Ok(None),
            Some(Err(error)) => Err(error),
            None => self.feed_any(chunk, on_event),
        }
    }

    /// The fast way for the most frequent chunk: more plain text of the string being
    /// read, in a strict stream shown at every change. The parser takes it as one
    /// fragment ([`Parser::continue_string`]), without its dispatch; when the last
    /// fragment grew a string of the partial, this one goes down the same steps
    /// ([`HasPartial::grow_at`]) without the sink's, else it goes to the sink as `feed`
    /// would send it. `None` (nothing consumed) leaves the chunk to
    /// [`PartialStream::feed_any`].
    #[inline]
    fn continue_string(
        &mut self,
        chunk: &[u8],
        on_event: &mut impl FnMut(FieldEvent<'_>),
    ) -> Option<Result<Changed, StreamError>> {
        // Strict, and shown at every change.
        if self.lenient.is_some() || self.coalescing {
            return None;
        }
        // How much of the parser's path is the wrapper's (the path does not change
        // while the string goes on).
        let wrapper = self.parser.path().len()
            - unwrapped(self.unwrap_key.as_deref(), self.parser.path())?.len();
        let text = self.parser.continue_string(chunk)?;
        if self.keep_raw {
            self.raw.extend_from_slice(chunk);
        }
        if let Some(place) = self.scratch.routes.kept_place()
            && let Some(partial) = self.partial.open()
            && let Some(changed) = T::grow_at(partial, place, text)
        {
            let path = self.parser.path().get(wrapper..).unwrap_or_default();
            on_event(FieldEvent::Grew { path, text });
            return Some(Ok(changed));
        }
        Some(self.fragment(text, on_event))
    }

    /// A fragment the parser has consumed, sent to the sink as `feed` sends it.
    fn fragment(
        &mut self,
        text: &str,
        on_event: &mut impl FnMut(FieldEvent<'_>),
    ) -> Result<Changed, StreamError> {
        let mut sink = StrictSink::<T, _>::new(
            &mut self.partial,
            &mut self.scratch,
            self.unwrap_key.as_deref(),
            on_event,
        );
        match sink.event(self.parser.path(), Event::StringFragment(text)) {
            Ok(()) => Ok(sink.changed),
            Err(stopped) => Err(sink.fail(FeedError::Sink(stopped))),
        }
    }

    /// Feeds a chunk, any chunk.
    #[inline]
    fn feed_any(
        &mut self,
        chunk: &[u8],
        mut on_event: impl FnMut(FieldEvent<'_>),
    ) -> Result<Option<&T::Partial>, StreamError> {
        let changed = match &mut self.lenient {
            None => {
                if self.keep_raw {
                    self.raw.extend_from_slice(chunk);
                }
                let mut sink = StrictSink::<T, _>::new(
                    &mut self.partial,
                    &mut self.scratch,
                    self.unwrap_key.as_deref(),
                    &mut on_event,
                );
                let fed = self.parser.feed(chunk, &mut sink);
                let changed = sink.changed;
                if let Err(error) = fed {
                    return Err(sink.fail(error));
                }
                changed
            }
            Some(lenient) => {
                if self.keep_raw {
                    self.raw.extend_from_slice(chunk);
                }
                self.seen = self.seen.saturating_add(chunk.len() as u64);
                if let Some(limit) = lenient.limits.max_bytes
                    && self.seen > limit
                {
                    return Err(StreamError::Parse(ParseError {
                        kind: ParseErrorKind::TooLarge { limit },
                        offset: limit,
                        path: String::new(),
                    }));
                }
                let mut changed = false;
                let mut rest = chunk;
                while let Some(range) = lenient.gate.json_range(rest) {
                    if lenient.gate.take_fresh() && self.parser.bytes_consumed() > 0 {
                        // A better value (or the next after a failed one): start over.
                        self.parser = Parser::lenient(lenient.limits);
                        self.partial = Held::Nothing;
                        self.scratch.reset();
                        lenient.non_empty = false;
                    }
                    let part = rest.get(range.clone()).unwrap_or_default();
                    let before = self.parser.bytes_consumed();
                    let mut slot = Slot::new(&mut self.partial);
                    let mut sink = |path: &[PathSegment], event: Event<'_>| {
                        lenient.non_empty |= !path.is_empty();
                        // A value the partial cannot take yet (it needs coercion) is
                        // shown in the final value; it never stops a lenient stream.
                        match apply::<T>(&mut slot, &mut self.scratch, path, event, &mut on_event) {
                            Ok(change) => changed |= change,
                            Err(_) => self.scratch.reset(),
                        }
                        Ok::<(), std::convert::Infallible>(())
                    };
                    let stopped_at = match self.parser.feed(part, &mut sink) {
                        Ok(()) => {
                            if self.parser.is_done() {
                                lenient.gate.value_ended(lenient.non_empty);
                            }
                            break;
                        }
                        Err(FeedError::Parse(e)) => {
                            if e.kind == ParseErrorKind::TrailingCharacters {
                                lenient.gate.value_ended(lenient.non_empty);
                            } else {
                                lenient.gate.value_failed();
                            }
                            e.offset
                        }
                        Err(FeedError::Sink(never)) => match never {},
                    };
                    // The gate goes on from the byte the parser stopped at (at least
                    // one byte on, so a value failing on its first byte cannot loop).
                    let used = usize::try_from(stopped_at.saturating_sub(before))
                        .unwrap_or(part.len())
                        .max(1);
                    rest = rest.get(range.start + used..).unwrap_or_default();
                }
                changed
            }
        };
        if !self.coalescing {
            // A snapshot at every change.
            return Ok(if changed { self.partial.get() } else { None });
        }
        self.pending_change |= changed;
        self.bytes_since_snapshot += chunk.len();
        if self.pending_change && self.window_open() {
            self.pending_change = false;
            self.bytes_since_snapshot = 0;
            if self.coalesce.interval.is_some() {
                self.last_snapshot = Some(Instant::now());
            }
            return Ok(self.partial.get());
        }
        Ok(None)
    }

    fn window_open(&self) -> bool {
        let bytes_ok = self
            .coalesce
            .bytes
            .is_none_or(|min| self.bytes_since_snapshot >= min);
        let time_ok = match (self.coalesce.interval, self.last_snapshot) {
            (Some(min), Some(last)) => last.elapsed() >= min,
            _ => true,
        };
        bytes_ok && time_ok
    }

    /// Ends the input: the complete document is deserialized into `T` and validated.
    /// In strict mode a document that is not a `T` is reported with every wrong field
    /// at its path (see [`read_json`](crate::read_json)). In lenient mode the repairs
    /// are dropped; use
    /// [`PartialStream::finish_lenient`] to see them.
    pub fn finish(self, context: &Context) -> Result<T, StreamError> {
        self.finish_lenient(context).map(|read| read.value)
    }

    /// Like [`PartialStream::finish`], also returning every repair and coercion made
    /// (always none in strict mode).
    pub fn finish_lenient(mut self, context: &Context) -> Result<Lenient<T>, StreamError> {
        let Some(lenient) = self.lenient.take() else {
            let mut on_event = |_: FieldEvent<'_>| {};
            let mut sink = StrictSink::<T, _>::new(
                &mut self.partial,
                &mut self.scratch,
                self.unwrap_key.as_deref(),
                &mut on_event,
            );
            if let Err(error) = self.parser.finish(&mut sink) {
                return Err(sink.fail(error));
            }
            // Every wrong field at once, so that one re-ask can name them all.
            let value: T = match &self.unwrap_key {
                None => crate::extract::read_json_slice(&self.raw)?,
                Some(key) => crate::extract::read_json_under(&self.raw, key)?,
            };
            value.validate(context)?;
            return Ok(Lenient {
                value,
                repairs: Vec::new(),
            });
        };
        // The one lenient reading, over the whole answer.
        let text = std::str::from_utf8(&self.raw).map_err(|error| ParseError {
            kind: ParseErrorKind::InvalidUtf8,
            offset: error.valid_up_to() as u64,
            path: String::new(),
        })?;
        let read = read_with::<T>(text, lenient.limits)?;
        read.value.validate(context)?;
        Ok(read)
    }
}

/// The path below the wrapper key, or `None` for the wrapper's own events.
fn unwrapped<'p>(key: Option<&str>, path: &'p [PathSegment]) -> Option<&'p [PathSegment]> {
    match key {
        None => Some(path),
        Some(key) => match path.split_first() {
            Some((PathSegment::Key(first), rest)) if first == key => Some(rest),
            _ => None,
        },
    }
}

/// The partial a stream holds: owned until a snapshot is shared
/// ([`PartialStream::shared`]), then in an `Arc` that changes go through with
/// `Arc::make_mut` (a copy only while a snapshot is still held). A stream whose
/// partial is never shared pays nothing for sharing.
///
/// A tag of its own (`repr(u8)`): matched at every chunk, it is then one byte compared,
/// not a niche decoded from inside the partial.
#[derive(Debug)]
#[repr(u8)]
enum Held<P> {
    Nothing,
    Owned(P),
    Shared(Arc<P>),
}

impl<P: Clone> Held<P> {
    fn get(&self) -> Option<&P> {
        match self {
            Held::Nothing => None,
            Held::Owned(partial) => Some(partial),
            Held::Shared(partial) => Some(partial),
        }
    }

    fn share(&mut self) -> Option<Arc<P>> {
        if let Held::Owned(_) = self
            && let Held::Owned(partial) = std::mem::replace(self, Held::Nothing)
        {
            *self = Held::Shared(Arc::new(partial));
        }
        match self {
            Held::Shared(partial) => Some(Arc::clone(partial)),
            _ => None,
        }
    }

    fn open(&mut self) -> Option<&mut P> {
        match self {
            Held::Nothing => None,
            Held::Owned(partial) => Some(partial),
            Held::Shared(partial) => Some(Arc::make_mut(partial)),
        }
    }
}

/// The partial during one chunk: opened for changes at the first event that reaches
/// it, once per chunk, not at every event (an owned partial is open from the start).
enum Slot<'a, P> {
    Closed(&'a mut Held<P>),
    Open(&'a mut P),
    /// Between two states (only inside `Slot::open_and_apply`).
    Moving,
}

impl<'a, P: Clone> Slot<'a, P> {
    fn new(partial: &'a mut Held<P>) -> Self {
        match partial {
            Held::Owned(partial) => Slot::Open(partial),
            held => Slot::Closed(held),
        }
    }

    /// The partial, opened for changes (a copy only while a snapshot of it is held);
    /// `None` while there is none.
    #[inline(always)]
    fn opened(&mut self) -> Option<&mut P> {
        if let Slot::Closed(held) = self
            && !matches!(held, Held::Nothing)
            && let Slot::Closed(held) = std::mem::replace(self, Slot::Moving)
        {
            *self = match held {
                Held::Owned(partial) => Slot::Open(partial),
                Held::Shared(partial) => Slot::Open(Arc::make_mut(partial)),
                Held::Nothing => Slot::Closed(held),
            };
        }
        match self {
            Slot::Open(partial) => Some(partial),
            _ => None,
        }
    }

    /// Applies one event, opening the partial first (or creating it).
    #[inline]
    fn apply<T: HasPartial<Partial = P>>(
        &mut self,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<bool, PartialError> {
        match self {
            Slot::Open(partial) => T::apply_existing(partial, path, event, scratch),
            _ => self.open_and_apply::<T>(path, event, scratch),
        }
    }

    /// The first event of a chunk for a partial that is shared or not there yet.
    #[cold]
    fn open_and_apply<T: HasPartial<Partial = P>>(
        &mut self,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<bool, PartialError> {
        let partial = match std::mem::replace(self, Slot::Moving) {
            Slot::Open(partial) => partial,
            Slot::Closed(held) => {
                if let Held::Nothing = held {
                    let created = T::apply_new(path, event, scratch);
                    let changed = match created {
                        Ok(Some(created)) => {
                            *held = Held::Owned(created);
                            Ok(true)
                        }
                        Ok(None) => Ok(false),
                        Err(error) => Err(error),
                    };
                    *self = Slot::new(held);
                    return changed;
                }
                match held.open() {
                    Some(partial) => partial,
                    None => return Ok(false),
                }
            }
            Slot::Moving => return Ok(false),
        };
        let changed = T::apply_existing(partial, path, event, scratch);
        *self = Slot::Open(partial);
        changed
    }
}

/// Where a failed event stopped the parser: its error is kept in the sink, so that
/// the parser passes a marker, not the error, back up through its calls.
struct SinkStopped;

/// The parser's sink in strict mode: applies each event to the partial, reports field
/// events, and remembers whether something visible changed.
struct StrictSink<'a, T: Extract, F> {
    slot: Slot<'a, T::Partial>,
    scratch: &'a mut Scratch,
    unwrap_key: Option<&'a str>,
    on_event: &'a mut F,
    changed: bool,
    error: Option<(WirePath, PartialError)>,
}

impl<'a, T: Extract, F: FnMut(FieldEvent<'_>)> StrictSink<'a, T, F> {
    fn new(
        partial: &'a mut Held<T::Partial>,
        scratch: &'a mut Scratch,
        unwrap_key: Option<&'a str>,
        on_event: &'a mut F,
    ) -> Self {
        StrictSink {
            slot: Slot::new(partial),
            scratch,
            unwrap_key,
            on_event,
            changed: false,
            error: None,
        }
    }

    /// The stream's error for a failed feed.
    #[cold]
    fn fail(&mut self, error: FeedError<SinkStopped>) -> StreamError {
        match error {
            FeedError::Parse(e) => StreamError::Parse(e),
            FeedError::Sink(SinkStopped) => match self.error.take() {
                Some((path, error)) => StreamError::Partial { path, error },
                None => StreamError::Partial {
                    path: WirePath::root(),
                    error: PartialError::Invalid {
                        path: WirePath::root(),
                        message: "the partial refused an event".to_owned(),
                    },
                },
            },
        }
    }
}

impl<T: Extract, F: FnMut(FieldEvent<'_>)> EventSink for StrictSink<'_, T, F> {
    type Error = SinkStopped;

    #[inline]
    fn event(&mut self, path: &[PathSegment], event: Event<'_>) -> Result<(), SinkStopped> {
        let path = match self.unwrap_key {
            None => path,
            Some(key) => match unwrapped(Some(key), path) {
                Some(path) => path,
                None => {
                    // The wrapper's own event: never between two fragments of a
                    // string, but the kept place is forgotten all the same.
                    self.scratch.routes.forget_place();
                    return Ok(());
                }
            },
        };
        match apply::<T>(&mut self.slot, self.scratch, path, event, self.on_event) {
            Ok(changed) => {
                self.changed |= changed;
                Ok(())
            }
            Err(error) => {
                self.scratch.reset();
                self.error = Some((WirePath::from(path), error));
                Err(SinkStopped)
            }
        }
    }
}

/// Applies one event to the partial; tells whether something visible changed.
#[inline]
fn apply<T: Extract>(
    slot: &mut Slot<'_, T::Partial>,
    scratch: &mut Scratch,
    path: &[PathSegment],
    event: Event<'_>,
    on_event: &mut impl FnMut(FieldEvent<'_>),
) -> Result<bool, PartialError> {
    if let Event::StringFragment(text) = event
        && let Some(place) = scratch.routes.kept_place()
        && let Some(partial) = slot.opened()
        && let Some(changed) = T::grow_at(partial, place, text)
    {
        // More of the string the last fragment grew: down the steps that one took.
        on_event(FieldEvent::Grew { path, text });
        return Ok(changed);
    }
    if let Event::EndString = event
        && let Some(place) = scratch.routes.take_place()
        && let Some(partial) = slot.opened()
    {
        // The end of that string: down the same steps, applied there as the routed
        // way applies it (the routes are entered, as the string's size is kept).
        scratch.routes.enter(path, &event);
        let applied = T::apply_at(partial, place.steps(), &event, scratch);
        scratch.routes.leave();
        if let Some(applied) = applied {
            let changed = applied?;
            on_event(FieldEvent::Completed { path });
            return Ok(changed);
        }
    }
    // The path is the parser's (or a suffix of it): routing may leave hints for the
    // next events under the same keys.
    scratch.routes.enter(path, &event);
    if let Event::Key(_) = event
        && scratch.routes.key_unused(path)
    {
        // A key of a partial struct's object: it changes nothing there.
        scratch.routes.forget_place();
        scratch.routes.leave();
        return Ok(false);
    }
    let changed = match (event, &mut *slot) {
        // More of a visible string, the most frequent event: straight down the routes
        // its first fragment left, when it can, recording the steps for the next one.
        (Event::StringFragment(text), Slot::Open(partial)) => {
            scratch.routes.record_place();
            match T::grow(partial, path, text, &mut scratch.routes) {
                Some(changed) => {
                    scratch.routes.keep_place();
                    Ok(changed)
                }
                None => {
                    scratch.routes.forget_place();
                    slot.apply::<T>(path, &event, scratch)
                }
            }
        }
        _ => {
            // Anything else may change what the steps lead to.
            scratch.routes.forget_place();
            slot.apply::<T>(path, &event, scratch)
        }
    };
    scratch.routes.leave();
    let changed = changed?;
    match event {
        Event::StringFragment(text) => on_event(FieldEvent::Grew { path, text }),
        _ if event.completes_value() => on_event(FieldEvent::Completed { path }),
        _ => {}
    }
    Ok(changed)
}
