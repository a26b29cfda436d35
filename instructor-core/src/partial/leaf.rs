//! Partials of the standard leaf types and containers.

use super::{Changed, Event, HasPartial, PartialError, PathSegment, Routes, Scratch, WirePath};
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, LinkedList, VecDeque};
use std::sync::Arc;

/// Buffers a value in the scratch and deserializes it with serde once complete: the
/// partial of every complete-only type (enums, dates, `serde_json::Value`, ...).
pub fn apply_complete<T: DeserializeOwned>(
    path: &[PathSegment],
    event: &Event<'_>,
    scratch: &mut Scratch,
) -> Result<Option<T>, PartialError> {
    match scratch.value.push(path, event)? {
        None => Ok(None),
        Some(value) => {
            serde_json::from_value(value)
                .map(Some)
                .map_err(|error| PartialError::Invalid {
                    path: WirePath::from(path),
                    message: error.to_string(),
                })
        }
    }
}

/// A value that arrives after its partial is already complete: a protocol error.
fn already_complete(path: &[PathSegment], event: &Event<'_>) -> Result<Changed, PartialError> {
    Err(PartialError::mismatch(
        path,
        "nothing more for a finished value",
        event,
    ))
}

impl HasPartial for Box<str> {
    const HAS_PARTIAL_RULES: bool = false;

    type Partial = String;

    #[inline]
    fn grow(
        partial: &mut String,
        path: &[PathSegment],
        text: &str,
        routes: &mut Routes,
    ) -> Option<Changed> {
        String::grow(partial, path, text, routes)
    }

    #[inline]
    fn grow_at(partial: &mut String, place: &[u32], text: &str) -> Option<Changed> {
        String::grow_at(partial, place, text)
    }

    #[inline]
    fn apply_at(
        partial: &mut String,
        place: &[u32],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Option<Result<Changed, PartialError>> {
        String::apply_at(partial, place, event, scratch)
    }

    fn apply_new(
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Option<String>, PartialError> {
        String::apply_new(path, event, scratch)
    }

    #[inline]
    fn apply_existing(
        partial: &mut String,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError> {
        String::apply_existing(partial, path, event, scratch)
    }
}

/// The capacity a streamed string jumps to when its first fragment no longer fits:
/// a string that arrives in several fragments is a long one, and growing it 8 bytes at
/// a time through 8, 16, 32 and 64 would reallocate at each doubling.
const FIRST_GROWTH: usize = 64;

/// Appends a fragment to a streamed string. The first fragment is allocated at its
/// size, so a string that arrives whole (a short tag) costs no more than serde's; the
/// first one that does not fit makes it jump to twice the length needed, at least
/// [`FIRST_GROWTH`] bytes, then it doubles as usual.
#[inline]
fn grow_string(partial: &mut String, fragment: &str) {
    let needed = partial.len() + fragment.len();
    if needed > partial.capacity() && (1..FIRST_GROWTH).contains(&partial.capacity()) {
        // Twice what is needed, so that a long string ends with about the capacity
        // doubling would have given it, and never less than `FIRST_GROWTH`.
        partial.reserve_exact(needed.saturating_mul(2).max(FIRST_GROWTH) - partial.len());
    }
    partial.push_str(fragment);
}

impl HasPartial for String {
    const HAS_PARTIAL_RULES: bool = false;

    type Partial = String;

    #[inline]
    fn grow(
        partial: &mut String,
        path: &[PathSegment],
        text: &str,
        _: &mut Routes,
    ) -> Option<Changed> {
        if !path.is_empty() {
            return None;
        }
        grow_string(partial, text);
        Some(!text.is_empty())
    }

    #[inline]
    fn grow_at(partial: &mut String, place: &[u32], text: &str) -> Option<Changed> {
        if !place.is_empty() {
            return None;
        }
        grow_string(partial, text);
        Some(!text.is_empty())
    }

    #[inline]
    fn apply_at(
        partial: &mut String,
        place: &[u32],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Option<Result<Changed, PartialError>> {
        place
            .is_empty()
            .then(|| String::apply_existing(partial, &[], event, scratch))
    }

    fn apply_new(
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Option<String>, PartialError> {
        match event {
            _ if !path.is_empty() => Err(PartialError::mismatch(path, "a string", event)),
            // Sized like the last string at the same place of the stream, if any.
            Event::BeginString => Ok(Some(String::with_capacity(
                scratch.routes.text_size_here().unwrap_or(0),
            ))),
            Event::EndString => Ok(Some(String::new())),
            Event::StringFragment(fragment) => Ok(Some((*fragment).to_owned())),
            _ => Err(PartialError::mismatch(path, "a string", event)),
        }
    }

    #[inline]
    fn apply_existing(
        partial: &mut String,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError> {
        match event {
            _ if !path.is_empty() => Err(PartialError::mismatch(path, "a string", event)),
            Event::StringFragment(fragment) => {
                grow_string(partial, fragment);
                Ok(!fragment.is_empty())
            }
            Event::EndString => {
                scratch.routes.set_text_size_here(partial.len());
                Ok(false)
            }
            Event::BeginString => Ok(false),
            _ => Err(PartialError::mismatch(path, "a string", event)),
        }
    }
}

macro_rules! scalar {
    ($expected:literal => $($t:ty),*) => {$(
        impl HasPartial for $t {
            type Partial = $t;
            const HAS_PARTIAL_RULES: bool = false;

            fn apply_new(
                path: &[PathSegment],
                event: &Event<'_>,
                _: &mut Scratch,
            ) -> Result<Option<$t>, PartialError> {
                match event {
                    Event::Number(raw) if path.is_empty() => raw
                        .parse::<$t>()
                        .map(Some)
                        .map_err(|_| PartialError::Mismatch {
                            path: WirePath::root(),
                            expected: format!("{} ({})", $expected, stringify!($t)),
                            found: format!("`{raw}`"),
                        }),
                    _ => Err(PartialError::mismatch(path, $expected, event)),
                }
            }

            fn apply_existing(
                _: &mut $t,
                path: &[PathSegment],
                event: &Event<'_>,
                _: &mut Scratch,
            ) -> Result<Changed, PartialError> {
                already_complete(path, event)
            }
        }
    )*};
}
scalar!("an integer in range" => i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
scalar!("a number" => f32, f64);

macro_rules! complete_only {
    ($($t:ty),* $(,)?) => {$(
        impl HasPartial for $t {
            type Partial = $t;
            const HAS_PARTIAL_RULES: bool = false;

            fn apply_new(
                path: &[PathSegment],
                event: &Event<'_>,
                scratch: &mut Scratch,
            ) -> Result<Option<$t>, PartialError> {
                apply_complete::<$t>(path, event, scratch)
            }

            fn apply_existing(
                _: &mut $t,
                path: &[PathSegment],
                event: &Event<'_>,
                _: &mut Scratch,
            ) -> Result<Changed, PartialError> {
                already_complete(path, event)
            }
        }
    )*};
}
complete_only!(
    bool,
    char,
    (),
    serde_json::Value,
    serde_json::Map<String, serde_json::Value>,
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroUsize,
);
#[cfg(feature = "chrono")]
complete_only!(
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::FixedOffset>,
    chrono::NaiveDate,
    chrono::NaiveTime,
    chrono::NaiveDateTime,
);
#[cfg(feature = "time")]
complete_only!(
    time::Date,
    time::Time,
    time::PrimitiveDateTime,
    time::OffsetDateTime
);
#[cfg(feature = "uuid")]
complete_only!(uuid::Uuid);
#[cfg(feature = "url")]
complete_only!(url::Url);
#[cfg(feature = "rust_decimal")]
complete_only!(rust_decimal::Decimal);

impl<T: HasPartial> HasPartial for Option<T> {
    const HAS_PARTIAL_RULES: bool = T::HAS_PARTIAL_RULES;

    type Partial = Option<T::Partial>;

    #[inline]
    fn grow(
        partial: &mut Self::Partial,
        path: &[PathSegment],
        text: &str,
        routes: &mut Routes,
    ) -> Option<Changed> {
        T::grow(partial.as_mut()?, path, text, routes)
    }

    #[inline]
    fn grow_at(partial: &mut Self::Partial, place: &[u32], text: &str) -> Option<Changed> {
        T::grow_at(partial.as_mut()?, place, text)
    }

    #[inline]
    fn apply_at(
        partial: &mut Self::Partial,
        place: &[u32],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Option<Result<Changed, PartialError>> {
        T::apply_at(partial.as_mut()?, place, event, scratch)
    }

    fn accepts_key(key: &str) -> bool {
        T::accepts_key(key)
    }

    fn mark_complete(partial: &mut Self::Partial) {
        if let Some(inner) = partial {
            T::mark_complete(inner);
        }
    }

    fn validate_partial(
        partial: &Self::Partial,
        context: &crate::validate::Context,
        path: &mut WirePath,
        errors: &mut crate::validate::ValidationErrors,
    ) {
        if let Some(inner) = partial {
            T::validate_partial(inner, context, path, errors);
        }
    }

    fn apply_new(
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Option<Self::Partial>, PartialError> {
        if path.is_empty() && matches!(event, Event::Null) && !scratch.value.is_active() {
            return Ok(Some(None));
        }
        Ok(T::apply_new(path, event, scratch)?.map(Some))
    }

    fn apply_existing(
        partial: &mut Self::Partial,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Changed, PartialError> {
        match partial {
            Some(inner) => T::apply_existing(inner, path, event, scratch),
            None => already_complete(path, event),
        }
    }
}

macro_rules! boxed {
    ($($w:ident),*) => {$(
        // Boxed, so that a recursive type (`struct Node { next: Box<Node> }`) has a
        // partial of finite size.
        impl<T: HasPartial> HasPartial for $w<T> {
            type Partial = Box<T::Partial>;
            const HAS_PARTIAL_RULES: bool = T::HAS_PARTIAL_RULES;

            #[inline]
            fn grow(
                partial: &mut Self::Partial,
                path: &[PathSegment],
                text: &str,
                routes: &mut Routes,
            ) -> Option<Changed> {
                T::grow(partial, path, text, routes)
            }

            #[inline]
            fn grow_at(partial: &mut Self::Partial, place: &[u32], text: &str) -> Option<Changed> {
                T::grow_at(partial, place, text)
            }

            #[inline]
            fn apply_at(
                partial: &mut Self::Partial,
                place: &[u32],
                event: &Event<'_>,
                scratch: &mut Scratch,
            ) -> Option<Result<Changed, PartialError>> {
                T::apply_at(partial, place, event, scratch)
            }

            fn accepts_key(key: &str) -> bool {
                T::accepts_key(key)
            }

            fn mark_complete(partial: &mut Self::Partial) {
                T::mark_complete(partial);
            }

            fn validate_partial(
                partial: &Self::Partial,
                context: &crate::validate::Context,
                path: &mut WirePath,
                errors: &mut crate::validate::ValidationErrors,
            ) {
                T::validate_partial(partial, context, path, errors);
            }

            fn apply_new(
                path: &[PathSegment],
                event: &Event<'_>,
                scratch: &mut Scratch,
            ) -> Result<Option<Box<T::Partial>>, PartialError> {
                Ok(T::apply_new(path, event, scratch)?.map(Box::new))
            }

            fn apply_existing(
                partial: &mut Box<T::Partial>,
                path: &[PathSegment],
                event: &Event<'_>,
                scratch: &mut Scratch,
            ) -> Result<Changed, PartialError> {
                T::apply_existing(partial, path, event, scratch)
            }
        }
    )*};
}
boxed!(Box, Arc);

/// The partial of every list type: a `Vec` of element partials in arrival order.
pub fn list_apply_new<P>(
    path: &[PathSegment],
    event: &Event<'_>,
) -> Result<Option<Vec<P>>, PartialError> {
    match event {
        Event::BeginArray if path.is_empty() => Ok(Some(Vec::new())),
        _ => Err(PartialError::mismatch(path, "an array", event)),
    }
}

/// Applies an event to a list partial; elements appear as their partials do.
#[inline]
pub fn list_apply_existing<T: HasPartial>(
    items: &mut Vec<T::Partial>,
    path: &[PathSegment],
    event: &Event<'_>,
    scratch: &mut Scratch,
) -> Result<Changed, PartialError> {
    match path.split_first() {
        None => match event {
            Event::EndArray => Ok(false),
            _ => Err(PartialError::mismatch(path, "an array", event)),
        },
        Some((PathSegment::Index(index), rest)) => {
            if let Some(item) = items.get_mut(*index) {
                T::apply_existing(item, rest, event, scratch)
            } else if *index > items.len() {
                // An earlier element never became visible (it failed): pushing this one
                // would put it at the wrong index.
                Err(PartialError::Invalid {
                    path: WirePath::from(path),
                    message: format!(
                        "element {index} arrived while element {} is missing",
                        items.len()
                    ),
                })
            } else {
                match T::apply_new(rest, event, scratch)? {
                    Some(item) => {
                        items.push(item);
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
        }
        Some((PathSegment::Key(_), _)) => Err(PartialError::mismatch(path, "an array", event)),
    }
}

macro_rules! list {
    ($($t:ty => [$($g:tt)*]),* $(,)?) => {$(
        impl<$($g)*> HasPartial for $t {
            const HAS_PARTIAL_RULES: bool = T::HAS_PARTIAL_RULES;

            type Partial = Vec<T::Partial>;

            #[inline]
            fn grow(
                partial: &mut Self::Partial,
                path: &[PathSegment],
                text: &str,
                routes: &mut Routes,
            ) -> Option<Changed> {
                match path.split_first()? {
                    (PathSegment::Index(index), rest) => {
                        let item = partial.get_mut(*index)?;
                        routes.step(*index);
                        T::grow(item, rest, text, routes)
                    }
                    (PathSegment::Key(_), _) => None,
                }
            }

            #[inline]
            fn grow_at(partial: &mut Self::Partial, place: &[u32], text: &str) -> Option<Changed> {
                let (index, rest) = place.split_first()?;
                T::grow_at(partial.get_mut(usize::try_from(*index).ok()?)?, rest, text)
            }

            #[inline]
            fn apply_at(
                partial: &mut Self::Partial,
                place: &[u32],
                event: &Event<'_>,
                scratch: &mut Scratch,
            ) -> Option<Result<Changed, PartialError>> {
                // The element is there (`list_apply_existing` applies to it the same).
                let (index, rest) = place.split_first()?;
                let item = partial.get_mut(usize::try_from(*index).ok()?)?;
                T::apply_at(item, rest, event, scratch)
            }

            fn mark_complete(partial: &mut Self::Partial) {
                partial.iter_mut().for_each(T::mark_complete);
            }

            fn validate_partial(
                partial: &Self::Partial,
                context: &crate::validate::Context,
                path: &mut WirePath,
                errors: &mut crate::validate::ValidationErrors,
            ) {
                if !T::HAS_PARTIAL_RULES {
                    return;
                }
                for (index, item) in partial.iter().enumerate() {
                    path.push(PathSegment::Index(index));
                    T::validate_partial(item, context, path, errors);
                    path.pop();
                }
            }

            fn apply_new(
                path: &[PathSegment],
                event: &Event<'_>,
                _: &mut Scratch,
            ) -> Result<Option<Self::Partial>, PartialError> {
                list_apply_new(path, event)
            }

            #[inline]
            fn apply_existing(
                partial: &mut Self::Partial,
                path: &[PathSegment],
                event: &Event<'_>,
                scratch: &mut Scratch,
            ) -> Result<Changed, PartialError> {
                list_apply_existing::<T>(partial, path, event, scratch)
            }
        }
    )*};
}
list!(
    Vec<T> => [T: HasPartial],
    VecDeque<T> => [T: HasPartial],
    LinkedList<T> => [T: HasPartial],
    BTreeSet<T> => [T: HasPartial],
    HashSet<T, S> => [T: HasPartial, S],
    [T; N] => [T: HasPartial, const N: usize],
);

/// Applies an event to a map partial; entries keep the order the model wrote them in.
pub fn map_apply_existing<V: HasPartial>(
    entries: &mut IndexMap<String, V::Partial>,
    path: &[PathSegment],
    event: &Event<'_>,
    scratch: &mut Scratch,
) -> Result<Changed, PartialError> {
    match path.split_first() {
        None => match event {
            Event::EndObject | Event::Key(_) => Ok(false),
            _ => Err(PartialError::mismatch(path, "an object", event)),
        },
        Some((PathSegment::Key(key), rest)) => {
            if let Some(value) = entries.get_mut(key.as_str()) {
                V::apply_existing(value, rest, event, scratch)
            } else {
                match V::apply_new(rest, event, scratch)? {
                    Some(value) => {
                        entries.insert(key.clone(), value);
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
        }
        Some((PathSegment::Index(_), _)) => Err(PartialError::mismatch(path, "an object", event)),
    }
}

fn map_apply_new<P>(
    path: &[PathSegment],
    event: &Event<'_>,
) -> Result<Option<IndexMap<String, P>>, PartialError> {
    match event {
        Event::BeginObject if path.is_empty() => Ok(Some(IndexMap::new())),
        _ => Err(PartialError::mismatch(path, "an object", event)),
    }
}

macro_rules! map {
    ($($m:ident < K, V $(, $s:ident)? >),*) => {$(
        impl<K, V: HasPartial $(, $s)?> HasPartial for $m<K, V $(, $s)?> {
            const HAS_PARTIAL_RULES: bool = V::HAS_PARTIAL_RULES;

            type Partial = IndexMap<String, V::Partial>;

            fn accepts_key(_: &str) -> bool {
                true
            }

            fn mark_complete(partial: &mut Self::Partial) {
                partial.values_mut().for_each(V::mark_complete);
            }

            fn validate_partial(
                partial: &Self::Partial,
                context: &crate::validate::Context,
                path: &mut WirePath,
                errors: &mut crate::validate::ValidationErrors,
            ) {
                if !V::HAS_PARTIAL_RULES {
                    return;
                }
                for (key, value) in partial {
                    path.push(PathSegment::Key(key.clone()));
                    V::validate_partial(value, context, path, errors);
                    path.pop();
                }
            }

            fn apply_new(
                path: &[PathSegment],
                event: &Event<'_>,
                _: &mut Scratch,
            ) -> Result<Option<Self::Partial>, PartialError> {
                map_apply_new(path, event)
            }

            fn apply_existing(
                partial: &mut Self::Partial,
                path: &[PathSegment],
                event: &Event<'_>,
                scratch: &mut Scratch,
            ) -> Result<Changed, PartialError> {
                map_apply_existing::<V>(partial, path, event, scratch)
            }
        }
    )*};
}
map!(HashMap<K, V, S>, BTreeMap<K, V>, IndexMap<K, V, S>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_without_partial_rules_say_so_and_containers_follow_their_items() {
        const { assert!(!String::HAS_PARTIAL_RULES) };
        const { assert!(!<Box<str>>::HAS_PARTIAL_RULES) };
        const { assert!(!<Option<Vec<Box<u64>>>>::HAS_PARTIAL_RULES) };
        const { assert!(!<std::collections::BTreeMap<String, Vec<f64>>>::HAS_PARTIAL_RULES) };
        // A type that says nothing (here the dynamic value) is assumed to have rules, and
        // so is every container of it.
        const { assert!(crate::client::DynamicValue::HAS_PARTIAL_RULES) };
        const { assert!(<Vec<Option<crate::client::DynamicValue>>>::HAS_PARTIAL_RULES) };
    }
}
