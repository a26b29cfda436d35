//! Partials of internally and adjacently tagged enums, which stream their fields once
//! the tag is known.
//!
//! Until the tag has arrived the object is buffered in the [`Scratch`] (a model may
//! write the tag after the fields); when it completes, the members buffered so far
//! become the variant's partial (marked complete) and the rest streams into it.

use super::{Changed, Event, PartialError, PathSegment, Scratch, WirePath};
use serde::ser::{self, SerializeMap};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// How a tagged enum is written, for its partial.
#[derive(Debug, Clone, Copy)]
pub struct TagRepr {
    /// The key of the tag.
    pub tag: &'static str,
    /// The key of the content (adjacently tagged), or `None` (internally tagged: the
    /// content's fields sit beside the tag).
    pub content: Option<&'static str>,
}

/// The partial of a tagged enum. Implemented by the derive.
pub trait TaggedPartial: Sized {
    /// Where the tag and the content are.
    const REPR: TagRepr;

    /// Whether the variant named `tag` can be shown as soon as the tag is known (its
    /// content streams into it), rather than only once the whole object is complete.
    /// `None` for a tag no variant answers to.
    fn shows_at_tag(tag: &str) -> Option<bool>;

    /// Builds the partial of the variant named `tag` from its content (the object
    /// itself when internally tagged, the content member or `null` when adjacently
    /// tagged).
    fn from_content(tag: &str, content: serde_json::Value) -> Result<Self, String>;

    /// Marks what the partial holds as complete (it was buffered whole).
    fn mark_complete(&mut self);
}

/// `apply_new` of a tagged enum: buffers the object until its tag is known.
pub fn apply_new<P: TaggedPartial>(
    path: &[PathSegment],
    event: &Event<'_>,
    scratch: &mut Scratch,
) -> Result<Option<P>, PartialError> {
    let repr = P::REPR;
    let invalid = |message: String| PartialError::Invalid {
        path: WirePath::from(path),
        message,
    };
    if path.is_empty() && !matches!(event, Event::BeginObject) && !scratch.value.is_active() {
        return Err(PartialError::mismatch(path, "an object", event));
    }
    let buffered = match scratch.value.push(path, event)? {
        Some(whole) => whole,
        None => {
            let tag_done = event.completes_value()
                && matches!(path, [PathSegment::Key(key)] if key == repr.tag);
            if !tag_done {
                return Ok(None);
            }
            let shows = match tag_of(scratch.value.peek_root_key(repr.tag)) {
                Some(tag) => P::shows_at_tag(tag),
                None => return Err(invalid(format!("the tag `{}` is not a string", repr.tag))),
            };
            match shows {
                Some(true) => match scratch.value.take_open_root() {
                    Some(open) => open,
                    None => return Ok(None),
                },
                Some(false) => return Ok(None),
                None => {
                    let tag = tag_of(scratch.value.peek_root_key(repr.tag))
                        .unwrap_or_default()
                        .to_owned();
                    scratch.value.reset();
                    return Err(invalid(format!("unknown variant `{tag}`")));
                }
            }
        }
    };
    let serde_json::Value::Object(mut object) = buffered else {
        return Err(invalid("expected an object".to_owned()));
    };
    let tag = match object.remove(repr.tag) {
        Some(serde_json::Value::String(tag)) => tag,
        Some(_) => return Err(invalid(format!("the tag `{}` is not a string", repr.tag))),
        None => return Err(invalid(format!("missing field `{}`", repr.tag))),
    };
    let content = match repr.content {
        None => serde_json::Value::Object(object),
        Some(key) => object.remove(key).unwrap_or(serde_json::Value::Null),
    };
    let mut partial = P::from_content(&tag, content).map_err(invalid)?;
    partial.mark_complete();
    Ok(Some(partial))
}

fn tag_of(value: Option<&serde_json::Value>) -> Option<&str> {
    value.and_then(serde_json::Value::as_str)
}

/// Where an event for a visible tagged partial goes: `Some(rest)` is the path
/// relative to the content, `None` an event of the enclosing object (or of the tag
/// again) that changes nothing.
pub fn content_path<'p>(
    repr: TagRepr,
    path: &'p [PathSegment],
    event: &Event<'_>,
) -> Result<Option<&'p [PathSegment]>, PartialError> {
    match repr.content {
        None => Ok(Some(path)),
        Some(content) => match path.split_first() {
            None => Ok(None),
            Some((PathSegment::Key(key), rest)) if key == content => Ok(Some(rest)),
            Some((PathSegment::Key(_), _)) => Ok(None),
            Some((PathSegment::Index(_), _)) => {
                Err(PartialError::mismatch(path, "an object", event))
            }
        },
    }
}

/// Applies an event to a visible unit variant: the object around it changes nothing.
pub fn unit_apply_existing(
    path: &[PathSegment],
    event: &Event<'_>,
) -> Result<Changed, PartialError> {
    match path.first() {
        Some(PathSegment::Index(_)) => Err(PartialError::mismatch(path, "an object", event)),
        _ => Ok(false),
    }
}

/// Builds a variant's content from its buffered JSON.
pub fn content_from<T: serde::de::DeserializeOwned>(
    content: serde_json::Value,
) -> Result<T, String> {
    serde_json::from_value(content).map_err(|error| error.to_string())
}

/// Builds a struct variant's content from its buffered JSON; `null` (adjacently
/// tagged, content not started) is the empty partial.
pub fn struct_content_from<T: serde::de::DeserializeOwned + Default>(
    content: serde_json::Value,
) -> Result<T, String> {
    if content.is_null() {
        return Ok(T::default());
    }
    content_from(content)
}

/// `Serialize` of a tagged enum partial: the tag, then the content (beside it when
/// internally tagged, under the content key when adjacently tagged), with the
/// content's own `"$state"`.
pub fn serialize<S: Serializer, T: Serialize>(
    serializer: S,
    repr: TagRepr,
    name: &str,
    content: Option<&T>,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry(repr.tag, name)?;
    match (repr.content, content) {
        (_, None) => {}
        (Some(key), Some(content)) => map.serialize_entry(key, content)?,
        (None, Some(content)) => {
            match serde_json::to_value(content).map_err(ser::Error::custom)? {
                serde_json::Value::Object(members) => {
                    for (key, member) in members {
                        map.serialize_entry(&key, &member)?;
                    }
                }
                serde_json::Value::Null => {}
                other => {
                    return Err(ser::Error::custom(format_args!(
                        "an internally tagged variant must hold an object, found {other}"
                    )));
                }
            }
        }
    }
    map.end()
}

/// `Deserialize` of a tagged enum partial: the tag and the content, as JSON (the
/// content without the tag when internally tagged; `null` when absent).
pub fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
    repr: TagRepr,
) -> Result<(String, serde_json::Value), D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    let serde_json::Value::Object(mut object) = value else {
        return Err(de::Error::custom("expected an object"));
    };
    let tag = match object.remove(repr.tag) {
        Some(serde_json::Value::String(tag)) => tag,
        _ => return Err(de::Error::missing_field(repr.tag)),
    };
    object.remove(super::fields::STATE_KEY);
    let content = match repr.content {
        None => serde_json::Value::Object(object),
        Some(key) => object.remove(key).unwrap_or(serde_json::Value::Null),
    };
    Ok((tag, content))
}
