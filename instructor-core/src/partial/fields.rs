//! `Serialize` and `Deserialize` of generated partial structs, driven by a table.
//!
//! The derive does not run a second serde derive on every partial: it emits a static
//! table of field descriptors ([`FieldInfo`]) and two small `match`es that lend field
//! `i` out as a trait object ([`PartialFields::field_ref`] and
//! [`PartialFields::field_mut`]), and the loops below do the rest, serde included
//! (through `erased_serde`, so that no serde code is generic per field in the derive).
//! A serialized partial is the JSON object of its present fields under their wire
//! names, plus `"$state"`: an object from the wire name of each present field to
//! `"streaming"` or `"complete"`. Reading a partial back ignores `"$state"` (a state
//! describes one stream, not the data).

use super::{
    Changed, CompleteFields, Event, HasPartial, PartialError, PathSegment, Routes, Scratch,
    WirePath,
};
use crate::validate::{Context, ValidationErrors};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::ser::{self, SerializeMap};
use serde::{Deserializer, Serialize, Serializer};
use std::any::{Any, TypeId};
use std::fmt;
use std::marker::PhantomData;

/// The key of the field states in a serialized partial.
pub const STATE_KEY: &str = "$state";

/// One field of a generated partial struct, in declaration order.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo {
    /// The name on the wire.
    pub wire: &'static str,
    /// Other names serde accepts for it.
    pub aliases: &'static [&'static str],
    /// `#[serde(flatten)]`: its members sit beside ours.
    pub flatten: bool,
    /// The field's name in Rust (what `Debug` shows).
    pub ident: &'static str,
    /// An `Option` field: a `null` leaves it absent.
    pub nullable: bool,
    /// `#[extract(stream(done))]`: shown only once complete.
    pub done: bool,
    /// A flattened field: whether its type takes the object key (its
    /// [`HasPartial::accepts_key`]).
    pub accepts: Option<fn(&str) -> bool>,
}

impl FieldInfo {
    /// A plain field.
    pub const fn new(wire: &'static str, aliases: &'static [&'static str]) -> Self {
        FieldInfo::field(wire, wire, aliases, false, false)
    }

    /// A plain field, with its Rust name and streaming options.
    pub const fn field(
        ident: &'static str,
        wire: &'static str,
        aliases: &'static [&'static str],
        nullable: bool,
        done: bool,
    ) -> Self {
        FieldInfo {
            wire,
            aliases,
            flatten: false,
            ident,
            nullable,
            done,
            accepts: None,
        }
    }

    /// A `#[serde(flatten)]` field.
    pub const fn flatten() -> Self {
        FieldInfo {
            wire: "",
            aliases: &[],
            flatten: true,
            ident: "",
            nullable: false,
            done: false,
            accepts: None,
        }
    }

    /// A `#[serde(flatten)]` field with its Rust name and the keys it takes.
    pub const fn flattened(ident: &'static str, accepts: fn(&str) -> bool) -> Self {
        FieldInfo {
            ident,
            accepts: Some(accepts),
            ..FieldInfo::flatten()
        }
    }

    #[inline]
    fn answers_to(&self, key: &str) -> bool {
        !self.flatten
            && (same_name(self.wire, key) || self.aliases.iter().any(|a| same_name(a, key)))
    }

    fn takes_flattened(&self, key: &str) -> bool {
        self.flatten && self.accepts.is_some_and(|accepts| accepts(key))
    }
}

/// `a == b`, with the length and the first byte compared before the rest (most
/// names a key is tried against differ there, and the call that compares the rest
/// costs more than the name).
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// The field states gathered while a partial is written.
#[derive(Debug, Default)]
pub struct States {
    entries: Vec<(String, &'static str)>,
}

impl States {
    fn push(&mut self, wire: &str, complete: bool) {
        let state = if complete { "complete" } else { "streaming" };
        self.entries.push((wire.to_owned(), state));
    }
}

impl Serialize for States {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entries.iter().map(|(k, v)| (k.as_str(), *v)))
    }
}

/// A generated partial struct, seen field by field. Implemented by the derive.
pub trait PartialFields: Default + Sized + 'static {
    /// The fields, in declaration order (the index of a field in this table is its
    /// index in [`PartialFields::complete_fields`]).
    const FIELDS: &'static [FieldInfo];

    /// Which fields are complete.
    fn complete_fields(&self) -> &CompleteFields;

    /// Shows field `index` to `visit` (nothing for an index past the last field).
    fn field_ref(&self, index: usize, visit: &mut dyn FnMut(&dyn FieldRef));

    /// Lends field `index` to `visit`, with the field states (nothing for an index past
    /// the last field).
    fn field_mut(
        &mut self,
        index: usize,
        visit: &mut dyn FnMut(&mut dyn FieldMut, &mut CompleteFields),
    );
}

/// Writes one present field of a partial under its wire name, or the members of a
/// flattened field beside its parent's; tells whether the field was present.
fn write_field<M: SerializeMap>(
    map: &mut M,
    info: &FieldInfo,
    field: &dyn FieldRef,
    states: &mut States,
) -> Result<bool, M::Error> {
    match field.present() {
        None => Ok(false),
        Some(value) if info.flatten => write_flattened(map, value, states),
        Some(value) => map.serialize_entry(info.wire, value).map(|()| true),
    }
}

/// Writes the members of a flattened field beside the fields of its parent, and its
/// field states into the parent's.
pub fn write_flattened<M: SerializeMap>(
    map: &mut M,
    value: &dyn erased_serde::Serialize,
    states: &mut States,
) -> Result<bool, M::Error> {
    let value = serde_json::to_value(value).map_err(ser::Error::custom)?;
    match value {
        serde_json::Value::Object(members) => {
            for (key, member) in members {
                if key == STATE_KEY {
                    if let serde_json::Value::Object(inner) = member {
                        for (wire, state) in inner {
                            states.push(&wire, state.as_str() == Some("complete"));
                        }
                    }
                } else {
                    map.serialize_entry(&key, &member)?;
                }
            }
            Ok(true)
        }
        serde_json::Value::Null => Ok(false),
        other => Err(ser::Error::custom(format_args!(
            "a flattened field must be an object, found {other}"
        ))),
    }
}

/// `Serialize` of a generated partial struct.
pub fn serialize<P: PartialFields, S: Serializer>(
    partial: &P,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    let mut states = States::default();
    let complete = partial.complete_fields();
    for (index, info) in P::FIELDS.iter().enumerate() {
        let mut written = Ok(false);
        partial.field_ref(index, &mut |field| {
            written = write_field(&mut map, info, field, &mut states);
        });
        if written? && !info.flatten {
            states.push(info.wire, complete.get(index as u32));
        }
    }
    map.serialize_entry(STATE_KEY, &states)?;
    map.end()
}

/// `Deserialize` of a generated partial struct: fields by wire name or alias, unknown
/// keys and `"$state"` ignored, flattened fields read from the keys no field took.
pub fn deserialize<'de, P: PartialFields, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<P, D::Error> {
    deserializer.deserialize_map(PartialVisitor(PhantomData))
}

struct PartialVisitor<P>(PhantomData<P>);

impl<'de, P: PartialFields> Visitor<'de> for PartialVisitor<P> {
    type Value = P;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<P, A::Error> {
        let mut partial = P::default();
        let flattens = P::FIELDS.iter().any(|f| f.flatten);
        let mut rest = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match P::FIELDS.iter().position(|f| f.answers_to(&key)) {
                Some(index) => map.next_value_seed(FieldSeed {
                    partial: &mut partial,
                    index,
                })?,
                None if flattens && key != STATE_KEY => {
                    rest.insert(key, map.next_value()?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for (index, _) in P::FIELDS.iter().enumerate().filter(|(_, f)| f.flatten) {
            read_field(&mut partial, index, serde_json::Value::Object(rest.clone()))
                .map_err(de::Error::custom)?;
        }
        Ok(partial)
    }
}

struct FieldSeed<'a, P> {
    partial: &'a mut P,
    index: usize,
}

impl<'de, P: PartialFields> DeserializeSeed<'de> for FieldSeed<'_, P> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        read_field(self.partial, self.index, deserializer)
    }
}

/// Reads field `index` of a partial from `deserializer` (for a flattened field, from
/// the object of the members no other field took).
fn read_field<'de, P: PartialFields, D: Deserializer<'de>>(
    partial: &mut P,
    index: usize,
    deserializer: D,
) -> Result<(), D::Error> {
    let mut erased = <dyn erased_serde::Deserializer<'de>>::erase(deserializer);
    let mut result = Ok(());
    partial.field_mut(index, &mut |field, _| result = field.read(&mut erased));
    result.map_err(de::Error::custom)
}

// ---------------------------------------------------------------------------------
// The rest of a partial struct's behaviour, driven by its table: the derive emits only
// `field_ref` and `field_mut` (one arm per field) and these loops do the work.

/// A field of a partial struct, read through the type that fills it.
pub trait FieldRef {
    /// The field's value (`Option<partial>`), for `Debug`.
    fn debug(&self) -> &dyn fmt::Debug;

    /// The field's value, for comparing with the same field of another partial.
    fn as_any(&self) -> &dyn Any;

    /// Whether `other` (the same field of another partial) holds an equal value.
    fn same(&self, other: &dyn FieldRef) -> bool;

    /// The field's partial when present, for `Serialize`.
    fn present(&self) -> Option<&dyn erased_serde::Serialize>;

    /// Runs the validation of what the field holds (see [`HasPartial::validate_partial`]).
    fn validate_partial(
        &self,
        info: &FieldInfo,
        context: &Context,
        path: &mut WirePath,
        errors: &mut ValidationErrors,
    );
}

/// A field of a partial struct, updated through the type that fills it.
pub trait FieldMut {
    /// Applies an event addressed to the field (`rest` is the path below it).
    fn apply(
        &mut self,
        info: &FieldInfo,
        index: u32,
        complete: &mut CompleteFields,
        rest: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError>;

    /// Applies an event to a flattened field (`path` starts at its member's key).
    fn apply_flattened(
        &mut self,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError>;

    /// [`HasPartial::grow`] of the field's value (`rest` is the path below it).
    fn grow(&mut self, rest: &[PathSegment], text: &str, routes: &mut Routes) -> Option<Changed>;

    /// [`HasPartial::grow_at`] of the field's value (`place`: the steps below it).
    fn grow_at(&mut self, place: &[u32], text: &str) -> Option<Changed>;

    /// [`HasPartial::apply_at`] of the field's value (`place`: the steps below it); at
    /// the last step (`place` empty), [`FieldMut::apply`] with an empty path.
    fn apply_at(
        &mut self,
        info: &FieldInfo,
        index: u32,
        complete: &mut CompleteFields,
        place: &[u32],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Option<Result<Changed, PartialError>>;

    /// Marks the field complete when present (`track`: it has a state of its own).
    fn mark(&mut self, complete: &mut CompleteFields, index: u32, track: bool);

    /// Replaces the field with what `deserializer` holds (`null`: absent).
    fn read<'de>(
        &mut self,
        deserializer: &mut dyn erased_serde::Deserializer<'de>,
    ) -> Result<(), erased_serde::Error>;
}

/// A field `Option<F::Partial>` seen as a [`FieldRef`].
pub struct SlotRef<'a, F: HasPartial>(pub &'a Option<F::Partial>);

/// A field `Option<F::Partial>` seen as a [`FieldMut`].
pub struct SlotMut<'a, F: HasPartial>(pub &'a mut Option<F::Partial>);

impl<F: HasPartial> FieldRef for SlotRef<'_, F> {
    fn debug(&self) -> &dyn fmt::Debug {
        self.0
    }

    fn as_any(&self) -> &dyn Any {
        self.0
    }

    fn same(&self, other: &dyn FieldRef) -> bool {
        other
            .as_any()
            .downcast_ref::<Option<F::Partial>>()
            .is_some_and(|other| other == self.0)
    }

    fn present(&self) -> Option<&dyn erased_serde::Serialize> {
        self.0
            .as_ref()
            .map(|value| value as &dyn erased_serde::Serialize)
    }

    fn validate_partial(
        &self,
        info: &FieldInfo,
        context: &Context,
        path: &mut WirePath,
        errors: &mut ValidationErrors,
    ) {
        if !F::HAS_PARTIAL_RULES {
            return;
        }
        if info.flatten {
            <Option<F> as HasPartial>::validate_partial(self.0, context, path, errors);
            return;
        }
        path.push_key(info.wire);
        if info.nullable {
            <Option<F> as HasPartial>::validate_partial(self.0, context, path, errors);
        } else if let Some(inner) = self.0 {
            F::validate_partial(inner, context, path, errors);
        }
        path.pop();
    }
}

impl<F: HasPartial> FieldMut for SlotMut<'_, F> {
    #[inline]
    fn apply(
        &mut self,
        info: &FieldInfo,
        index: u32,
        complete: &mut CompleteFields,
        rest: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError> {
        crate::__private::apply_field::<F>(
            self.0,
            complete,
            index,
            info.nullable,
            info.done,
            rest,
            event,
            scratch,
        )
    }

    fn apply_flattened(
        &mut self,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError> {
        crate::__private::flatten_apply::<F>(self.0, path, event, scratch)
    }

    #[inline]
    fn grow(&mut self, rest: &[PathSegment], text: &str, routes: &mut Routes) -> Option<Changed> {
        F::grow(self.0.as_mut()?, rest, text, routes)
    }

    #[inline]
    fn grow_at(&mut self, place: &[u32], text: &str) -> Option<Changed> {
        F::grow_at(self.0.as_mut()?, place, text)
    }

    #[inline]
    fn apply_at(
        &mut self,
        info: &FieldInfo,
        index: u32,
        complete: &mut CompleteFields,
        place: &[u32],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Option<Result<Changed, PartialError>> {
        if place.is_empty() {
            return Some(self.apply(info, index, complete, &[], event, scratch));
        }
        F::apply_at(self.0.as_mut()?, place, event, scratch)
    }

    fn mark(&mut self, complete: &mut CompleteFields, index: u32, track: bool) {
        crate::__private::mark_field::<F>(self.0, complete, index, track);
    }

    fn read<'de>(
        &mut self,
        deserializer: &mut dyn erased_serde::Deserializer<'de>,
    ) -> Result<(), erased_serde::Error> {
        *self.0 = erased_serde::deserialize(deserializer)?;
        Ok(())
    }
}

/// The index of the field that takes the object key `key`: by wire name or alias, or
/// else the first flattened field whose type takes it.
#[inline]
pub fn field_for_key<P: PartialFields>(key: &str) -> Option<usize> {
    P::FIELDS
        .iter()
        .position(|f| f.answers_to(key))
        .or_else(|| P::FIELDS.iter().position(|f| f.takes_flattened(key)))
}

/// The field that takes the first key of `path` (`key`): from the stream's routing
/// hint for this depth and table when there is one, else looked up and remembered
/// (see [`Routes`](super::Routes)).
#[inline]
fn field_for_segment<P: PartialFields>(
    path: &[PathSegment],
    key: &str,
    scratch: &mut Scratch,
) -> Option<usize> {
    let table = TypeId::of::<P>();
    if let Some(hinted) = scratch.routes.get(path, table) {
        debug_assert_eq!(
            hinted,
            field_for_key::<P>(key),
            "stale routing hint for `{key}`"
        );
        return hinted;
    }
    let found = field_for_key::<P>(key);
    scratch.routes.set(path, table, found);
    found
}

/// `HasPartial::accepts_key` of a partial struct: a wire name, an alias, or a key a
/// flattened field takes.
pub fn accepts_key<P: PartialFields>(key: &str) -> bool {
    field_for_key::<P>(key).is_some()
}

/// `PartialSink::apply` of a partial struct: the event goes to the field its first key
/// names (keys no field takes are ignored).
#[inline]
pub fn apply<P: PartialFields>(
    partial: &mut P,
    path: &[PathSegment],
    event: &Event<'_>,
    scratch: &mut Scratch,
) -> Result<Changed, PartialError> {
    let (key, rest) = match path.split_first() {
        None => return crate::__private::struct_self_event(path, event),
        Some((PathSegment::Key(key), rest)) => (key, rest),
        Some(_) => return Err(PartialError::mismatch(path, "an object", event)),
    };
    let Some(index) = field_for_segment::<P>(path, key, scratch) else {
        return Ok(false);
    };
    let info = &P::FIELDS[index];
    // The outcome leaves the closure as a flag and, only on failure, an error: moving
    // a whole `Result` out (and dropping the one it replaces) costs more than the
    // routing it reports on, for every event.
    let mut changed = false;
    let mut error = None;
    partial.field_mut(index, &mut |field, complete| {
        let applied = if info.flatten {
            field.apply_flattened(path, event, scratch)
        } else {
            field.apply(info, index as u32, complete, rest, event, scratch)
        };
        match applied {
            Ok(applied) => changed = applied,
            Err(failed) => error = Some(failed),
        }
    });
    match error {
        None => Ok(changed),
        Some(error) => Err(error),
    }
}

/// `HasPartial::grow` of a partial struct: straight to the field the stream's hint
/// names, when it names one and the field is plain (not flattened, not shown only
/// once done).
#[inline]
pub fn grow<P: PartialFields>(
    partial: &mut P,
    path: &[PathSegment],
    text: &str,
    routes: &mut Routes,
) -> Option<Changed> {
    let (PathSegment::Key(key), rest) = path.split_first()? else {
        return None;
    };
    let index = routes.get(path, TypeId::of::<P>())??;
    debug_assert_eq!(
        Some(index),
        field_for_key::<P>(key),
        "stale routing hint for `{key}`"
    );
    let info = P::FIELDS.get(index)?;
    if info.flatten || info.done {
        return None;
    }
    routes.step(index);
    let mut grown = None;
    partial.field_mut(index, &mut |field, _| {
        grown = field.grow(rest, text, routes)
    });
    grown
}

/// `HasPartial::grow_at` of a partial struct: the field the place's first step names
/// (a step `grow` recorded, so never a flattened field or one shown only once done).
#[inline]
pub fn grow_at<P: PartialFields>(partial: &mut P, place: &[u32], text: &str) -> Option<Changed> {
    let (index, rest) = place.split_first()?;
    let index = usize::try_from(*index).ok()?;
    let mut grown = None;
    partial.field_mut(index, &mut |field, _| grown = field.grow_at(rest, text));
    grown
}

/// `HasPartial::apply_at` of a partial struct: the field the place's first step names,
/// and at the last step the field's own `apply`, as [`apply`] does once routed.
#[inline]
pub fn apply_at<P: PartialFields>(
    partial: &mut P,
    place: &[u32],
    event: &Event<'_>,
    scratch: &mut Scratch,
) -> Option<Result<Changed, PartialError>> {
    let (index, rest) = place.split_first()?;
    let info = P::FIELDS.get(usize::try_from(*index).ok()?)?;
    let mut applied = None;
    partial.field_mut(*index as usize, &mut |field, complete| {
        applied = field.apply_at(info, *index, complete, rest, event, scratch);
    });
    applied
}

/// `HasPartial::mark_complete` of a partial struct.
pub fn mark_complete<P: PartialFields>(partial: &mut P) {
    for (index, info) in P::FIELDS.iter().enumerate() {
        partial.field_mut(index, &mut |field, complete| {
            field.mark(complete, index as u32, !info.flatten);
        });
    }
}

/// `HasPartial::validate_partial` of a partial struct whose fields have no rules of
/// their own: each field's value validates what of it is complete.
pub fn validate_partial<P: PartialFields>(
    partial: &P,
    context: &Context,
    path: &mut WirePath,
    errors: &mut ValidationErrors,
) {
    for (index, info) in P::FIELDS.iter().enumerate() {
        partial.field_ref(index, &mut |field| {
            field.validate_partial(info, context, path, errors);
        });
    }
}

/// `Debug` of a partial struct: its fields by their Rust names.
pub fn debug<P: PartialFields>(partial: &P, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut out = f.debug_struct(name);
    for (index, info) in P::FIELDS.iter().enumerate() {
        partial.field_ref(index, &mut |field| {
            out.field(info.ident, field.debug());
        });
    }
    out.finish()
}

/// `PartialEq` of a partial struct: every field equal (the field states aside).
pub fn eq<P: PartialFields>(left: &P, right: &P) -> bool {
    (0..P::FIELDS.len()).all(|index| {
        let mut same = false;
        left.field_ref(index, &mut |a| {
            right.field_ref(index, &mut |b| same = a.same(b))
        });
        same
    })
}
