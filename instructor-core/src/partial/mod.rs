//! Typed partials: values that fill in while a JSON document streams.
//!
//! A parser (the streaming engine) turns bytes into path-addressed [`Event`]s; the
//! partial of a type applies them in place. Strings grow fragment by fragment;
//! numbers, booleans, enums and other "complete-only" values appear only once their
//! last byte has arrived, so a reader never sees `4` on the way to `42`.
//!
//! The protocol is split in two so that complete-only values need no placeholder:
//! [`HasPartial::apply_new`] receives events for a value that is not visible yet and
//! returns it once it is, and [`HasPartial::apply_existing`] updates a visible one.
//! While a complete-only value is in flight its bytes live in the [`Scratch`] that the
//! caller owns; JSON nests, so one scratch serves a whole document.

pub mod fields;
pub(crate) mod leaf;
mod route;
pub mod tagged;
pub mod unit;
mod value;

use serde::{Serialize, de::DeserializeOwned};
use std::fmt;

pub use route::{Place, Routes};
pub use value::ValueBuilder;

pub use crate::path::{PathSegment, WirePath};

/// Formats a path the way error messages and re-asks show it: `items[0].title`
/// (see [`WirePath`]).
pub fn display_path(path: &[PathSegment]) -> String {
    WirePath::display(path).to_string()
}

/// What happened at a path in the document. Events are addressed by the path of the
/// value they concern, relative to the sink that receives them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<'a> {
    /// `{` of the value at the path.
    BeginObject,
    /// `}` of the value at the path.
    EndObject,
    /// `[` of the value at the path.
    BeginArray,
    /// `]` of the value at the path.
    EndArray,
    /// The opening quote of a string value.
    BeginString,
    /// More characters of the string value (escapes already decoded).
    StringFragment(&'a str),
    /// The closing quote of a string value.
    EndString,
    /// A complete key of the object at the path (the member's value follows, at the
    /// path extended by this key).
    Key(&'a str),
    /// A complete number, as written (`-12.5e3`).
    Number(&'a str),
    /// A complete `true` or `false`.
    Bool(bool),
    /// A complete `null`.
    Null,
}

impl Event<'_> {
    /// Whether this event finishes the value at its path.
    pub fn completes_value(&self) -> bool {
        matches!(
            self,
            Event::EndObject
                | Event::EndArray
                | Event::EndString
                | Event::Number(_)
                | Event::Bool(_)
                | Event::Null
        )
    }

    fn kind(&self) -> &'static str {
        match self {
            Event::BeginObject | Event::EndObject | Event::Key(_) => "an object",
            Event::BeginArray | Event::EndArray => "an array",
            Event::BeginString | Event::StringFragment(_) | Event::EndString => "a string",
            Event::Number(_) => "a number",
            Event::Bool(_) => "a boolean",
            Event::Null => "null",
        }
    }
}

/// Why an event could not be applied to a partial.
///
/// The path is relative to the value that reported the error (the sink that received
/// the event); a stream reports the absolute path beside it (see
/// [`StreamError::Partial`](crate::stream::StreamError::Partial)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PartialError {
    /// The value at `path` has the wrong JSON type or an unparseable content.
    Mismatch {
        /// Path in wire names, relative to the sink that reported it.
        path: WirePath,
        /// What the type wanted.
        expected: String,
        /// What arrived.
        found: String,
    },
    /// A complete value was buffered but serde rejected it.
    Invalid {
        /// Path in wire names, relative to the sink that reported it.
        path: WirePath,
        /// serde's message.
        message: String,
    },
}

impl PartialError {
    /// A type mismatch at `path`.
    #[cold]
    #[inline(never)]
    pub fn mismatch(path: &[PathSegment], expected: &str, event: &Event<'_>) -> Self {
        PartialError::Mismatch {
            path: WirePath::from(path),
            expected: expected.to_owned(),
            found: event.kind().to_owned(),
        }
    }

    /// Where the error is, relative to the sink that reported it.
    pub fn path(&self) -> &WirePath {
        match self {
            PartialError::Mismatch { path, .. } | PartialError::Invalid { path, .. } => path,
        }
    }

    /// What is wrong, without the path (`expected an integer, found a string`).
    pub fn reason(&self) -> impl fmt::Display + '_ {
        Reason(self)
    }
}

struct Reason<'a>(&'a PartialError);

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            PartialError::Mismatch {
                expected, found, ..
            } => write!(f, "expected {expected}, found {found}"),
            PartialError::Invalid { message, .. } => f.write_str(message),
        }
    }
}

impl fmt::Display for PartialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_root() {
            write!(f, "{}", self.reason())
        } else {
            write!(f, "{path}: {}", self.reason())
        }
    }
}

impl std::error::Error for PartialError {}

/// The in-flight buffer for complete-only values. Owned by whoever drives the events
/// (one per document); sinks use it between the first and the last event of a value.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Characters of a string value that is shown only once complete (enums, dates).
    pub text: String,
    /// A whole JSON value that is shown only once complete (data-carrying enums,
    /// `serde_json::Value`).
    pub value: ValueBuilder,
    /// Which field each key of the driver's path resolved to (see [`Routes`]).
    pub routes: Routes,
}

impl Scratch {
    /// Drops whatever was in flight. A driver calls this after an event failed, so that
    /// a half-buffered value does not leak into the next one.
    pub fn reset(&mut self) {
        self.text.clear();
        self.value.reset();
        self.routes.reset();
    }
}

/// Whether applying an event made a visible difference.
pub type Changed = bool;

/// A value type with a partial mirror that streaming events fill in.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of an extracted type: it has no partial form for streaming",
    label = "no `HasPartial` for this type",
    note = "derive `Extract` for it, or give the field `#[extract(schema_with = path)]` or `#[extract(schemars)]`"
)]
///
/// `Partial` is what a reader sees while the value streams: a growing `String`, a
/// `Vec` of element partials, a `PartialX` struct with optional fields, or the
/// finished value for complete-only types.
pub trait HasPartial {
    /// The partial mirror.
    type Partial: Clone
        + fmt::Debug
        + PartialEq
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static;

    /// Applies an event to a value that is not visible yet; returns the partial once it
    /// becomes visible (at once for containers and strings, at the end for
    /// complete-only values).
    fn apply_new(
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Option<Self::Partial>, PartialError>;

    /// Applies an event to a visible partial.
    fn apply_existing(
        partial: &mut Self::Partial,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError>;

    /// Marks a partial that was built whole (from a buffered value) as complete, down
    /// to its nested fields, so that its field states say so.
    fn mark_complete(partial: &mut Self::Partial) {
        let _ = partial;
    }

    /// Whether [`validate_partial`](HasPartial::validate_partial) can record anything:
    /// `false` for a type with no rules anywhere in it (strings, numbers, booleans, and
    /// an `Option`, a list or a map of them), so that a partial struct, a list or a map
    /// skips it without building its path. `true` unless an impl says otherwise, which
    /// is always correct.
    const HAS_PARTIAL_RULES: bool = true;

    /// Runs the validation rules on the fields of `partial` that are complete (and,
    /// recursively, on the complete fields of what is still in progress), so that a
    /// stream can stop early on an answer that is already wrong. Custom validators
    /// need the whole value and run only at the end.
    fn validate_partial(
        partial: &Self::Partial,
        context: &crate::validate::Context,
        path: &mut WirePath,
        errors: &mut crate::validate::ValidationErrors,
    ) {
        let _ = (partial, context, path, errors);
    }

    /// Whether a `#[serde(flatten)]` field of this type takes the object key `key`.
    fn accepts_key(key: &str) -> bool {
        let _ = key;
        false
    }

    /// The fast way for the most frequent event, more characters of a string that is
    /// already visible: appends `text` to the string at `path` below `partial` and
    /// tells whether it changed, when every step there is plain and already routed
    /// (each key's field is hinted in `routes`, every value on the way is present).
    /// Each step down is recorded with [`Routes::step`] before going on below, so that
    /// the next fragment of the same string can go there by
    /// [`HasPartial::grow_at`]. `None` leaves the fragment to
    /// [`HasPartial::apply_existing`], which handles every case; the two must agree
    /// wherever this one answers.
    #[inline]
    fn grow(
        partial: &mut Self::Partial,
        path: &[PathSegment],
        text: &str,
        routes: &mut Routes,
    ) -> Option<Changed> {
        let _ = (partial, path, text, routes);
        None
    }

    /// [`HasPartial::grow`] for the next fragment of the same string, down the steps
    /// that `grow` recorded for the last one (`place`): no key, no hint. Must take the
    /// same steps as `grow` and do the same at the string; `None` when a step does not
    /// lead anywhere (the fragment is then routed by `grow`).
    #[inline]
    fn grow_at(partial: &mut Self::Partial, place: &[u32], text: &str) -> Option<Changed> {
        let _ = (partial, place, text);
        None
    }

    /// Applies any event addressed to the string at `place` (the steps `grow` recorded
    /// for its last fragment): its end, say. Goes down the steps, and at the last one
    /// applies the event as [`HasPartial::apply_existing`] does there, through the
    /// same functions (a struct's field, a list's element), so that only the routing
    /// by keys is skipped. `None` when a step does not lead anywhere (the event is
    /// then applied from the root).
    #[inline]
    fn apply_at(
        partial: &mut Self::Partial,
        place: &[u32],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Option<Result<Changed, PartialError>> {
        let _ = (partial, place, event, scratch);
        None
    }

    /// Applies an event to an optional slot, creating the partial when it appears.
    fn apply_slot(
        slot: &mut Option<Self::Partial>,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError> {
        match slot {
            Some(partial) => Self::apply_existing(partial, path, event, scratch),
            None => {
                let created = Self::apply_new(path, event, scratch)?;
                let changed = created.is_some();
                *slot = created;
                Ok(changed)
            }
        }
    }
}

/// Where a field of a partial stands while the answer streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldState {
    /// Nothing has arrived for it yet.
    Absent,
    /// It has started (a string growing, a list filling) but is not finished.
    InProgress,
    /// Its last byte has arrived.
    Complete,
}

/// Which fields of a generated partial struct are complete (one bit per field, in
/// declaration order; fields past the 128th are not tracked and read as in progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CompleteFields(u128);

impl CompleteFields {
    /// Marks field `index` complete; tells whether that is news.
    pub fn set(&mut self, index: u32) -> bool {
        let Some(bit) = 1u128.checked_shl(index) else {
            return false;
        };
        let was = self.0 & bit != 0;
        self.0 |= bit;
        !was
    }

    /// Whether field `index` is complete.
    pub fn get(&self, index: u32) -> bool {
        1u128
            .checked_shl(index)
            .is_some_and(|bit| self.0 & bit != 0)
    }

    /// The state of field `index`, given whether it has a value.
    pub fn state(&self, index: u32, present: bool) -> FieldState {
        match (present, self.get(index)) {
            (_, true) => FieldState::Complete,
            (true, false) => FieldState::InProgress,
            (false, false) => FieldState::Absent,
        }
    }
}

/// The partial of an extracted type (`Partial<Ticket>` is `PartialTicket`).
pub type Partial<T> = <T as HasPartial>::Partial;

/// A partial that receives events addressed relative to itself: the generated
/// `PartialX` structs, which exist (empty) before the first event.
pub trait PartialSink {
    /// Applies one event; `path` is relative to this value.
    fn apply(
        &mut self,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError>;
}

/// Every generated partial struct is a sink, routed by its field table (one impl here
/// rather than one per derived type).
impl<P: fields::PartialFields> PartialSink for P {
    #[inline]
    fn apply(
        &mut self,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError> {
        fields::apply(self, path, event, scratch)
    }
}
