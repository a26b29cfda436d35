//! Routing hints: which field each key of the current path resolved to, so that the
//! events after the first under a key skip the search for its field.
//!
//! A stream routes every event from the root of the partial (safe Rust cannot keep a
//! `&mut` to the string being filled from one chunk to the next while snapshots are
//! handed out), so a fragment of `sections[3].body` looks up `sections` in the report's
//! fields and `body` in the section's, again and again for every 8 bytes of the body.
//! The driver of the events (the stream) owns the path; it tells the [`Routes`] in the
//! [`Scratch`](super::Scratch) which path the event is at, and the first lookup of a key
//! at a depth leaves its answer there for the next events at that depth.
//!
//! A hint is never stale: it is keyed by the depth of the key in the driver's path and
//! by the field table it was looked up in (a flattened struct routes the same key as its
//! parent, at the same depth, in its own table), and the driver clears a depth whenever
//! a new key arrives there (the parser announces every key with [`Event::Key`] at the
//! path of its object before the key joins the path). A path that is not a suffix of the
//! driver's (one a partial builds for itself, or a test's) gets no hint at all: the
//! depth is read from where the slice sits in the driver's path, not from its length.
//!
//! The string being streamed gets more than hints: its [`Place`], the steps down to it
//! (field and element indexes) recorded by the fragment that was routed, which the next
//! fragments and the string's end follow without looking at keys. Indexes, not a
//! reference: they are followed afresh each time, through whatever partial the stream
//! holds then (a copy, if a snapshot was still held).

use super::{Event, PathSegment};
use std::any::TypeId;

/// How many field tables can hold a hint at one depth: a struct and one flattened
/// struct inside it (a third, deeper flattened level takes turns with the second).
const WAYS: usize = 2;

/// One resolution: `field` of the partial struct `table` (`NONE`: no field takes the
/// key, it is ignored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Hint {
    /// The partial struct whose table was searched; `None` for an empty slot. Its
    /// type, not its table's address: a constant's address may differ from one
    /// function to the next.
    table: Option<TypeId>,
    field: u32,
}

const NONE: u32 = u32::MAX;

/// The routing hints of one stream (see the module documentation).
#[derive(Debug, Default)]
pub struct Routes {
    /// Address just past the driver's path for the event being applied (0: no event
    /// is being routed with hints). A non-empty slice that ends there is a suffix of
    /// it: slices of live data that end at the same address overlap.
    end: usize,
    /// Its length in segments.
    len: usize,
    /// Whether the event begins an object (`{`).
    begins_object: bool,
    /// One bit per depth (the first 64): the object there is a partial struct, which
    /// ignores its keys (see [`Routes::keys_unused_here`]). Cleared by the `{` of every
    /// object at that depth, before the event is routed.
    keys_unused: u64,
    /// Whether its last segment is a key (a string there may be a struct's field; an
    /// element of a list never is, whatever an older hint at that depth says).
    ends_in_key: bool,
    /// Per depth of the path, the resolutions of the key at that depth.
    hints: Vec<[Hint; WAYS]>,
    /// Per depth and field index (the first few fields), the length of the last string
    /// completed there: what the next one there starts with (see
    /// [`Routes::text_size_here`]). Kept across keys and records, unlike the hints.
    text_sizes: Vec<[u32; SIZED_FIELDS]>,
    /// The place of the string the last fragment grew (see [`Place`]).
    place: Place,
}

/// How deep a kept place can be (a string deeper than this is routed every time).
const PLACE_DEPTH: usize = 8;

impl Place {
    /// The steps, from the root of the partial down to the string.
    #[inline]
    pub fn steps(&self) -> &[u32] {
        self.steps.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// The place of the string being streamed, as the steps down to it from the root of
/// the partial (a struct's field index, a list's element index): recorded by
/// [`HasPartial::grow`](super::HasPartial::grow) as it goes down for a fragment, and
/// followed by [`HasPartial::grow_at`](super::HasPartial::grow_at) for the next
/// fragments of the same string, with no key compared and no hint looked up.
///
/// It is kept only from one fragment of a string to the next: the driver forgets it at
/// every other event (nothing else happens to the partial between two fragments of one
/// string, so the steps still lead to the same string), and at a reset.
#[derive(Debug, Clone, Copy, Default)]
pub struct Place {
    steps: [u32; PLACE_DEPTH],
    len: u8,
    /// Recorded whole by a fragment that grew its string; `false` while recording.
    kept: bool,
    /// A step did not fit (too deep, an index past `u32`): not kept.
    overflow: bool,
}

/// The bit of `depth` in [`Routes::keys_unused`] (none past the 64th).
#[inline]
fn depth_bit(depth: usize) -> u64 {
    u32::try_from(depth)
        .ok()
        .and_then(|depth| 1u64.checked_shl(depth))
        .unwrap_or(0)
}

/// How many fields of a struct have their strings sized from the last one.
const SIZED_FIELDS: usize = 8;

/// The most a string starts with: a huge string in one record costs the next one at
/// most this much spare room.
const MAX_TEXT_SIZE: usize = 4096;

impl Routes {
    /// The driver is about to apply `event` at `path` (its whole path, root first).
    /// A key event clears the depth its key will take.
    #[inline]
    pub fn enter(&mut self, path: &[PathSegment], event: &Event<'_>) {
        self.end = path.as_ptr_range().end as usize;
        self.len = path.len();
        self.ends_in_key = matches!(path.last(), Some(PathSegment::Key(_)));
        self.begins_object = matches!(event, Event::BeginObject);
        if self.begins_object {
            self.keys_unused &= !depth_bit(path.len());
        }
        if let Event::Key(_) = event
            && let Some(slots) = self.hints.get_mut(path.len())
        {
            *slots = [Hint::default(); WAYS];
        }
    }

    /// Whether the key event just entered (at `path`, the driver's whole path) is one
    /// that changes nothing: the object it belongs to is a partial struct, whose `{`
    /// said so. The driver may skip routing it (its hints are cleared all the same).
    #[inline]
    pub fn key_unused(&self, path: &[PathSegment]) -> bool {
        self.keys_unused & depth_bit(path.len()) != 0
    }

    /// Called by a partial struct as its `{` makes it (`path` is empty, the end of the
    /// driver's path): the object at this depth ignores its keys. Only while the
    /// driver routes that very `{`, and only for the driver's own path, so a struct
    /// made for another reason (a flattened field, made with an empty path of its own
    /// when one of its members arrives) marks nothing.
    #[inline]
    pub fn keys_unused_here(&mut self, path: &[PathSegment]) {
        if self.end != 0
            && self.begins_object
            && path.is_empty()
            && path.as_ptr() as usize == self.end
        {
            self.keys_unused |= depth_bit(self.len);
        }
    }

    /// The event has been applied: paths seen from now on are no longer the driver's.
    #[inline]
    pub fn leave(&mut self) {
        self.end = 0;
        self.len = 0;
        self.ends_in_key = false;
        self.begins_object = false;
    }

    /// Forgets every hint (the document starts over, or an event failed).
    pub fn reset(&mut self) {
        self.leave();
        self.hints.clear();
        self.keys_unused = 0;
        self.place = Place::default();
    }

    /// The steps to the string the last fragment grew, while they are kept.
    #[inline]
    pub fn kept_place(&self) -> Option<&[u32]> {
        let place = &self.place;
        if !place.kept {
            return None;
        }
        place.steps.get(..usize::from(place.len))
    }

    /// The kept place, forgotten here: for the event that ends its string.
    #[inline]
    pub fn take_place(&mut self) -> Option<Place> {
        let place = self.place;
        self.forget_place();
        place.kept.then_some(place)
    }

    /// Forgets the kept place: an event other than a fragment of its string.
    #[inline]
    pub fn forget_place(&mut self) {
        self.place.kept = false;
        self.place.len = 0;
    }

    /// A fragment is about to be routed by [`HasPartial::grow`](super::HasPartial::grow),
    /// which records the steps it takes.
    #[inline]
    pub fn record_place(&mut self) {
        self.place = Place::default();
    }

    /// One step down, recorded by `grow` before it goes on below.
    #[inline]
    pub fn step(&mut self, index: usize) {
        let place = &mut self.place;
        let len = usize::from(place.len);
        match (u32::try_from(index), place.steps.get_mut(len)) {
            (Ok(index), Some(step)) => {
                *step = index;
                place.len += 1;
            }
            _ => place.overflow = true,
        }
    }

    /// The fragment grew its string: the steps recorded lead there, and the next
    /// fragment may follow them.
    #[inline]
    pub fn keep_place(&mut self) {
        self.place.kept = !self.place.overflow;
    }

    /// Where a string value at the end of the driver's path sits, for sizing it: the
    /// depth of its key and the field that key resolved to (the innermost table's,
    /// when a flattened struct routed it too). `None` when no event is being routed,
    /// or the last key of the path resolved to no field (an element of a list, a
    /// map's entry).
    #[inline]
    fn text_place(&self) -> Option<(usize, usize)> {
        if self.end == 0 || !self.ends_in_key {
            return None;
        }
        let depth = self.len.checked_sub(1)?;
        let hint = self
            .hints
            .get(depth)?
            .iter()
            .rev()
            .find(|hint| hint.table.is_some())?;
        let field = hint.field as usize;
        (field < SIZED_FIELDS).then_some((depth, field))
    }

    /// The capacity for a string beginning at the end of the driver's path: the length
    /// of the last string completed at the same place (depth and field), at most
    /// 4 KiB, when there was one.
    #[inline]
    pub fn text_size_here(&self) -> Option<usize> {
        let (depth, field) = self.text_place()?;
        let size = *self.text_sizes.get(depth)?.get(field)?;
        (size > 0).then_some(size as usize)
    }

    /// Remembers the length of a string completed at the end of the driver's path.
    #[inline]
    pub fn set_text_size_here(&mut self, len: usize) {
        let Some((depth, field)) = self.text_place() else {
            return;
        };
        if self.text_sizes.len() <= depth {
            self.text_sizes.resize(depth + 1, [0; SIZED_FIELDS]);
        }
        // Within `MAX_TEXT_SIZE`, so the cast cannot truncate.
        self.text_sizes[depth][field] = len.min(MAX_TEXT_SIZE) as u32;
    }

    /// The depth in the driver's path at which `path` starts, when `path` is a
    /// non-empty suffix of it.
    #[inline]
    fn depth(&self, path: &[PathSegment]) -> Option<usize> {
        if self.end == 0 || path.is_empty() || path.as_ptr_range().end as usize != self.end {
            return None;
        }
        self.len.checked_sub(path.len())
    }

    /// The field that the first key of `path` resolved to in the table of the partial
    /// struct `table`: `Some(Some(index))`, `Some(None)` for a key no field takes,
    /// `None` when not known.
    #[inline]
    pub fn get(&self, path: &[PathSegment], table: TypeId) -> Option<Option<usize>> {
        let slots = self.hints.get(self.depth(path)?)?;
        let hint = slots.iter().find(|hint| hint.table == Some(table))?;
        Some((hint.field != NONE).then_some(hint.field as usize))
    }

    /// Remembers what the first key of `path` resolved to in the table of `table`.
    #[inline]
    pub fn set(&mut self, path: &[PathSegment], table: TypeId, field: Option<usize>) {
        let Some(depth) = self.depth(path) else {
            return;
        };
        if self.hints.len() <= depth {
            self.hints.resize(depth + 1, [Hint::default(); WAYS]);
        }
        let field = field
            .and_then(|field| u32::try_from(field).ok())
            .filter(|&field| field != NONE)
            .unwrap_or(NONE);
        let hint = Hint {
            table: Some(table),
            field,
        };
        let slots = &mut self.hints[depth];
        match slots.iter().position(|slot| slot.table.is_none()) {
            Some(free) => slots[free] = hint,
            // Full (flatten inside flatten): the newest takes the last slot.
            None => slots[WAYS - 1] = hint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A distinct table per number.
    fn t(n: u8) -> TypeId {
        match n {
            1 => TypeId::of::<u8>(),
            2 => TypeId::of::<u16>(),
            3 => TypeId::of::<u32>(),
            _ => TypeId::of::<u64>(),
        }
    }

    fn key(k: &str) -> PathSegment {
        PathSegment::Key(k.to_owned())
    }

    #[test]
    fn a_hint_serves_the_same_key_at_the_same_depth() {
        let path = vec![key("sections"), PathSegment::Index(0), key("body")];
        let mut routes = Routes::default();
        routes.enter(&path, &Event::BeginString);
        assert_eq!(routes.get(&path[2..], t(1)), None);
        routes.set(&path[2..], t(1), Some(1));
        routes.set(&path[..], t(7), Some(2));
        assert_eq!(routes.get(&path[2..], t(1)), Some(Some(1)));
        assert_eq!(routes.get(&path[..], t(7)), Some(Some(2)));
        // Another table at the same depth has no hint of its own yet.
        assert_eq!(routes.get(&path[2..], t(2)), None);
    }

    #[test]
    fn a_key_event_clears_the_depth_of_its_key() {
        let path = vec![key("sections"), PathSegment::Index(0), key("body")];
        let mut routes = Routes::default();
        routes.enter(&path, &Event::BeginString);
        routes.set(&path[2..], t(1), Some(1));
        routes.set(&path[..], t(7), Some(2));
        routes.enter(&path[..2], &Event::Key("tags"));
        routes.enter(&path, &Event::BeginString);
        assert_eq!(routes.get(&path[2..], t(1)), None);
        assert_eq!(routes.get(&path[..], t(7)), Some(Some(2)));
    }

    #[test]
    fn a_path_that_is_not_the_drivers_gets_no_hint() {
        let path = vec![key("a"), key("b")];
        let other = vec![key("b")];
        let mut routes = Routes::default();
        routes.enter(&path, &Event::Null);
        routes.set(&path[1..], t(1), Some(0));
        assert_eq!(routes.get(&other, t(1)), None);
        // A prefix of the driver's path is not a suffix of it.
        assert_eq!(routes.get(&path[..1], t(1)), None);
        routes.leave();
        assert_eq!(routes.get(&path[1..], t(1)), None);
    }

    #[test]
    fn a_key_no_field_takes_is_remembered_as_none() {
        let path = vec![key("extra")];
        let mut routes = Routes::default();
        routes.enter(&path, &Event::Null);
        routes.set(&path, t(3), None);
        assert_eq!(routes.get(&path, t(3)), Some(None));
    }

    #[test]
    fn a_string_starts_with_the_length_of_the_last_one_at_its_place_at_most_4_kib() {
        let path = vec![key("sections"), PathSegment::Index(0), key("body")];
        let mut routes = Routes::default();
        routes.enter(&path, &Event::EndString);
        // The key's field not resolved yet: no place.
        routes.set_text_size_here(7);
        assert_eq!(routes.text_size_here(), None);
        routes.set(&path[2..], t(1), Some(1));
        routes.set_text_size_here(150);
        routes.leave();
        // Not routing: nothing.
        assert_eq!(routes.text_size_here(), None);
        // The next record: another index, the same depth and field.
        let next = vec![key("sections"), PathSegment::Index(1), key("body")];
        routes.enter(&next[..2], &Event::Key("body"));
        routes.enter(&next, &Event::BeginString);
        routes.set(&next[2..], t(1), Some(1));
        assert_eq!(routes.text_size_here(), Some(150));
        routes.set_text_size_here(1_000_000);
        assert_eq!(routes.text_size_here(), Some(MAX_TEXT_SIZE));
        // Another field at that depth has its own.
        routes.enter(&next[..2], &Event::Key("title"));
        routes.enter(&next, &Event::BeginString);
        routes.set(&next[2..], t(1), Some(0));
        assert_eq!(routes.text_size_here(), None);
        // A field past the sized ones is not kept.
        routes.enter(&next[..2], &Event::Key("late"));
        routes.enter(&next, &Event::EndString);
        routes.set(&next[2..], t(1), Some(SIZED_FIELDS));
        routes.set_text_size_here(10);
        assert_eq!(routes.text_size_here(), None);
        // An element of a list at that depth, under an older hint for `body`: no place.
        routes.enter(&next[..2], &Event::Key("body"));
        routes.enter(&next, &Event::BeginString);
        routes.set(&next[2..], t(1), Some(1));
        assert_eq!(routes.text_size_here(), Some(MAX_TEXT_SIZE));
        let item = vec![
            key("sections"),
            PathSegment::Index(1),
            PathSegment::Index(0),
        ];
        routes.enter(&item, &Event::BeginString);
        assert_eq!(routes.text_size_here(), None);
    }

    #[test]
    fn a_structs_brace_marks_its_keys_unused_until_the_next_brace_at_that_depth() {
        let path = vec![key("sections"), PathSegment::Index(0)];
        let mut routes = Routes::default();
        routes.enter(&path, &Event::BeginObject);
        // Made for another reason (a flattened struct's own empty path): nothing.
        routes.keys_unused_here(&[]);
        // Not the end of the driver's path: nothing.
        routes.keys_unused_here(&path[..0]);
        routes.enter(&path, &Event::Key("title"));
        assert!(!routes.key_unused(&path));
        // The struct the `{` made, at the end of the driver's path.
        routes.enter(&path, &Event::BeginObject);
        routes.keys_unused_here(&path[2..]);
        routes.enter(&path, &Event::Key("title"));
        assert!(routes.key_unused(&path));
        // Another depth is not marked.
        assert!(!routes.key_unused(&path[..1]));
        // Only while a `{` is routed: a struct made by another event marks nothing.
        let deeper = vec![key("sections"), PathSegment::Index(0), key("meta")];
        routes.enter(&deeper, &Event::BeginString);
        routes.keys_unused_here(&deeper[3..]);
        assert!(!routes.key_unused(&deeper));
        // The next object at that depth (a map, say) clears it before it is routed.
        let next = vec![key("sections"), PathSegment::Index(1)];
        routes.enter(&next, &Event::BeginObject);
        routes.enter(&next, &Event::Key("title"));
        assert!(!routes.key_unused(&next));
        // A reset forgets it.
        routes.enter(&next, &Event::BeginObject);
        routes.keys_unused_here(&next[2..]);
        routes.reset();
        assert!(!routes.key_unused(&next));
    }
}
