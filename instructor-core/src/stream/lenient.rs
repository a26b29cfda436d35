//! Lenient reading of prompted answers: find the JSON in what a model wrote (fences,
//! prose, `<think>` blocks), parse it leniently, and coerce it towards `T`'s schema.
//! Every repair and coercion is recorded; strict mode never repairs.

use super::parser::{FeedError, Limits, ParseErrorKind, Parser, Repair, RepairKind};
use super::typed::StreamError;
use crate::extract::{DeserializeError, Extract, from_json_value};
use crate::partial::{Event, PartialError, PathSegment, ValueBuilder, display_path};
use crate::schema::{AdditionalProperties, RootSchema, Schema, SchemaKind};
use crate::validate::Context;
use serde_json::Value;

/// A value read leniently, with what had to be repaired to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lenient<T> {
    /// The value.
    pub value: T,
    /// Every repair and coercion, in order.
    pub repairs: Vec<Repair>,
}

/// At most this many candidate places are tried in one answer.
const MAX_CANDIDATES: usize = 16;

/// Reads a `T` from a model's free-form answer.
///
/// The JSON may sit in a fenced block (with several fences, the first one that is a
/// valid `T` wins), in prose, or after a `<think>` block; it may have comments,
/// trailing commas, unquoted keys, single quotes, Python literals or a truncated tail;
/// and its values may need schema-guided coercion (`"25"` to 25, one value to a list,
/// an enum in another case, `{"Ticket": {...}}` around the value). What cannot be read
/// without guessing is an error.
///
/// ```
/// use instructor_core::{Context, stream::parse_lenient};
/// use instructor_macros::Extract;
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize, Extract)]
/// #[extract(crate = "instructor_core")]
/// struct User { name: String, age: u8, tags: Vec<String> }
///
/// let answer = "<think>The user is Ann.</think>Sure! ```json\n{name: 'Ann', age: \"30\", tags: 'vip',}\n```";
/// let read = parse_lenient::<User>(answer, &Context::new()).unwrap();
/// assert_eq!((read.value.name.as_str(), read.value.age), ("Ann", 30));
/// assert_eq!(read.value.tags, ["vip"]);
/// assert!(read.repairs.len() >= 5);
/// ```
pub fn parse_lenient<T: Extract>(text: &str, context: &Context) -> Result<Lenient<T>, StreamError> {
    let read = read_lenient::<T>(text)?;
    read.value.validate(context)?;
    Ok(read)
}

/// [`parse_lenient`] without the validation (for callers that validate themselves).
pub fn read_lenient<T: Extract>(text: &str) -> Result<Lenient<T>, StreamError> {
    let (visible, mut skipped) = strip_think(text);
    let candidates = candidates(&visible);
    if candidates.is_empty() {
        return Err(StreamError::Deserialize(DeserializeError::new(
            crate::WirePath::root(),
            "the answer holds no JSON",
        )));
    }
    let mut first_error = None;
    for candidate in candidates.into_iter().take(MAX_CANDIDATES) {
        let attempt = read_candidate::<T>(&visible[candidate.start..candidate.end]);
        match attempt {
            Ok((value, mut repairs)) => {
                if let Some(what) = candidate.skipped {
                    skipped.push(what);
                }
                let mut all: Vec<Repair> = skipped
                    .into_iter()
                    .map(|what| Repair {
                        offset: 0,
                        path: String::new(),
                        kind: RepairKind::SkippedText { what },
                    })
                    .collect();
                all.append(&mut repairs);
                return Ok(Lenient {
                    value,
                    repairs: all,
                });
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        StreamError::Deserialize(DeserializeError::new(
            crate::WirePath::root(),
            "the answer holds no JSON",
        ))
    }))
}

/// Parses one candidate leniently, coerces it and deserializes it.
fn read_candidate<T: Extract>(text: &str) -> Result<(T, Vec<Repair>), StreamError> {
    let (mut value, mut repairs) = parse_value(text.as_bytes())?;
    coerce_to::<T>(&mut value, &mut repairs);
    let typed = from_json_value::<T>(value)?;
    Ok((typed, repairs))
}

/// A lenient parse of one JSON value at the start of `bytes`; text after it is
/// skipped (and recorded).
fn parse_value(bytes: &[u8]) -> Result<(Value, Vec<Repair>), StreamError> {
    let mut parser = Parser::lenient(Limits::default());
    let mut builder = ValueBuilder::default();
    let mut value = None;
    let mut sink =
        |path: &[PathSegment], event: Event<'_>| -> Result<(), (crate::WirePath, PartialError)> {
            match builder.push(path, &event) {
                Ok(Some(done)) => value = Some(done),
                Ok(None) => {}
                Err(error) => return Err((crate::WirePath::from(path), error)),
            }
            Ok(())
        };
    let to_stream_error = |error: FeedError<(crate::WirePath, PartialError)>| match error {
        FeedError::Parse(e) => StreamError::Parse(e),
        FeedError::Sink((path, error)) => StreamError::Partial { path, error },
    };
    let mut trailing = false;
    match parser.feed(bytes, &mut sink) {
        Ok(()) => {}
        Err(FeedError::Parse(e)) if e.kind == ParseErrorKind::TrailingCharacters => {
            trailing = true;
        }
        Err(e) => return Err(to_stream_error(e)),
    }
    parser.finish(&mut sink).map_err(to_stream_error)?;
    let mut repairs = parser.take_repairs();
    if trailing {
        repairs.push(Repair {
            offset: 0,
            path: String::new(),
            kind: RepairKind::SkippedText {
                what: "text after the JSON".to_owned(),
            },
        });
    }
    let value = value.ok_or_else(|| {
        StreamError::Deserialize(DeserializeError::new(
            crate::WirePath::root(),
            "no JSON value",
        ))
    })?;
    Ok((value, repairs))
}

/// The answer without its `<think>...</think>` blocks (an unclosed one runs to the
/// end), and what was skipped.
fn strip_think(text: &str) -> (String, Vec<String>) {
    let mut visible = String::with_capacity(text.len());
    let mut skipped = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<think>") {
        visible.push_str(&rest[..start]);
        skipped.push("a <think> block".to_owned());
        match rest[start..].find("</think>") {
            Some(end) => rest = &rest[start + end + "</think>".len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    visible.push_str(rest);
    (visible, skipped)
}

/// A place where a JSON value may start.
#[derive(Debug)]
struct Candidate {
    start: usize,
    end: usize,
    /// What is skipped to read it.
    skipped: Option<String>,
}

/// Fenced blocks first (JSON-labelled ones before others), then every `{` or `[`
/// outside fences, in order.
fn candidates(text: &str) -> Vec<Candidate> {
    let mut fenced = Vec::new();
    let mut outside = Vec::new();
    let mut position = 0;
    let mut prose_start = 0;
    while let Some(open) = text[position..].find("```") {
        let open = position + open;
        outside.push((prose_start, open));
        let header_end = text[open + 3..]
            .find('\n')
            .map_or(text.len(), |n| open + 3 + n);
        let language = text[open + 3..header_end].trim().to_ascii_lowercase();
        let body_start = (header_end + 1).min(text.len());
        let (body_end, next) = match text[body_start..].find("```") {
            Some(close) => (body_start + close, body_start + close + 3),
            None => (text.len(), text.len()),
        };
        let is_json = language.is_empty() || language.starts_with("json");
        fenced.push((
            !is_json,
            Candidate {
                start: body_start,
                end: body_end,
                skipped: Some(format!("the text around a ```{language} fence")),
            },
        ));
        position = next;
        prose_start = next;
    }
    outside.push((prose_start, text.len()));
    fenced.sort_by_key(|(not_json, _)| *not_json);
    let mut out: Vec<Candidate> = fenced.into_iter().map(|(_, c)| c).collect();
    // A bare scalar answer (`"Paris"`, `42`, `true`) for a primitive `T`.
    let trimmed_start = text.len() - text.trim_start().len();
    if text[trimmed_start..].chars().next().is_some_and(|c| {
        c == '"' || c == '\'' || c == '-' || c.is_ascii_digit() || c == 't' || c == 'f' || c == 'n'
    }) {
        out.push(Candidate {
            start: trimmed_start,
            end: text.len(),
            skipped: None,
        });
    }
    for (start, end) in outside {
        for (offset, c) in text[start..end].char_indices() {
            if c == '{' || c == '[' {
                let at = start + offset;
                let skipped = (at > 0 && !text[..at].trim().is_empty())
                    .then(|| "text before the JSON".to_owned());
                out.push(Candidate {
                    start: at,
                    end: text.len(),
                    skipped,
                });
            }
        }
    }
    out
}

/// Schema-guided coercion of `value` towards `T`, recording each change.
pub fn coerce_to<T: Extract>(value: &mut Value, repairs: &mut Vec<Repair>) {
    let root = T::root_schema();
    unwrap_named(value, &root, &T::name(), repairs);
    let mut path = Vec::new();
    coerce(value, &root.schema, &root, &mut path, repairs);
}

fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `{"Ticket": {...}}` around a `Ticket` (whose schema has no `Ticket` property).
fn unwrap_named(value: &mut Value, root: &RootSchema, name: &str, repairs: &mut Vec<Repair>) {
    let SchemaKind::Object(object) = &root.schema.kind else {
        return;
    };
    let Value::Object(map) = value else {
        return;
    };
    if map.len() != 1 {
        return;
    }
    let Some((key, inner)) = map.iter().next() else {
        return;
    };
    if object.properties.contains_key(key) || !inner.is_object() {
        return;
    }
    let wanted = normalize(name);
    let schema_name = root.root_name.as_deref().map(normalize);
    if normalize(key) != wanted && Some(normalize(key)) != schema_name {
        return;
    }
    let key = key.clone();
    if let Some(inner) = map.remove(&key) {
        *value = inner;
        repairs.push(Repair {
            offset: 0,
            path: String::new(),
            kind: RepairKind::Unwrapped { key },
        });
    }
}

fn coerced(repairs: &mut Vec<Repair>, path: &[PathSegment], from: &Value, to: &Value) {
    repairs.push(Repair {
        offset: 0,
        path: display_path(path),
        kind: RepairKind::Coerced {
            from: from.to_string(),
            to: to.to_string(),
        },
    });
}

fn coerce(
    value: &mut Value,
    schema: &Schema,
    root: &RootSchema,
    path: &mut Vec<PathSegment>,
    repairs: &mut Vec<Repair>,
) {
    let replacement = match (&schema.kind, &*value) {
        (SchemaKind::Ref(name), _) => {
            if let Some(target) = root.resolve(name) {
                coerce(value, target, root, path, repairs);
            }
            return;
        }
        (SchemaKind::Nullable(_), Value::Null) => return,
        (SchemaKind::Nullable(inner), _) => {
            coerce(value, inner, root, path, repairs);
            return;
        }
        (SchemaKind::Integer(_), Value::String(text)) => integer_from_text(text.trim()),
        (SchemaKind::Integer(_), Value::Number(n)) if n.is_f64() => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| Value::from(f as i64)),
        (SchemaKind::Number(_), Value::String(text)) => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        (SchemaKind::Boolean, Value::String(text)) => {
            match text.trim().to_ascii_lowercase().as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            }
        }
        (SchemaKind::String(_), Value::Number(n)) => Some(Value::String(n.to_string())),
        (SchemaKind::Enum(values), Value::String(text)) if !values.contains(value) => {
            let wanted = normalize(text);
            let mut matches = values
                .iter()
                .filter(|v| v.as_str().is_some_and(|v| normalize(v) == wanted));
            match (matches.next(), matches.next()) {
                (Some(only), None) => Some(only.clone()),
                _ => None,
            }
        }
        (SchemaKind::Const(constant @ Value::String(c)), Value::String(text))
            if c != text && normalize(c) == normalize(text) =>
        {
            Some(constant.clone())
        }
        (SchemaKind::Array(_), Value::Array(_)) | (SchemaKind::Array(_), Value::Null) => None,
        (SchemaKind::Array(_), _) => Some(Value::Array(vec![value.clone()])),
        _ => None,
    };
    if let Some(new) = replacement {
        coerced(repairs, path, value, &new);
        *value = new;
    }
    match (&schema.kind, value) {
        (SchemaKind::Array(array), Value::Array(items)) => {
            for (index, item) in items.iter_mut().enumerate() {
                path.push(PathSegment::Index(index));
                coerce(item, &array.items, root, path, repairs);
                path.pop();
            }
        }
        (SchemaKind::Object(object), Value::Object(map)) => {
            for (key, member) in map.iter_mut() {
                let member_schema = match object.properties.get(key) {
                    Some(property) => Some(&property.schema),
                    None => match &object.additional {
                        AdditionalProperties::Schema(values) => Some(&**values),
                        _ => None,
                    },
                };
                if let Some(member_schema) = member_schema {
                    path.push(PathSegment::Key(key.clone()));
                    coerce(member, member_schema, root, path, repairs);
                    path.pop();
                }
            }
        }
        (SchemaKind::OneOf(branches) | SchemaKind::AnyOf(branches), value @ Value::Object(_)) => {
            if let Some(branch) = best_branch(value, branches, root) {
                coerce(value, branch, root, path, repairs);
            }
        }
        (SchemaKind::AllOf(parts), value) => {
            for part in parts {
                coerce(value, part, root, path, repairs);
            }
        }
        _ => {}
    }
}

fn integer_from_text(text: &str) -> Option<Value> {
    if let Ok(v) = text.parse::<i64>() {
        return Some(Value::from(v));
    }
    if let Ok(v) = text.parse::<u64>() {
        return Some(Value::from(v));
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
        .map(|f| Value::from(f as i64))
}

/// The branch of a tagged or untagged union an object most likely means: one whose
/// constant tag it carries, else the first whose required properties it has.
fn best_branch<'a>(
    value: &Value,
    branches: &'a [Schema],
    root: &'a RootSchema,
) -> Option<&'a Schema> {
    let Value::Object(map) = value else {
        return None;
    };
    let resolve = |schema: &'a Schema| -> &'a Schema {
        match &schema.kind {
            SchemaKind::Ref(name) => root.resolve(name).unwrap_or(schema),
            _ => schema,
        }
    };
    let objects: Vec<&Schema> = branches.iter().map(resolve).collect();
    let tagged = objects.iter().find(|branch| match &branch.kind {
        SchemaKind::Object(object) => object.properties.iter().any(|(key, property)| {
            matches!(&property.schema.kind, SchemaKind::Const(Value::String(tag))
                if map.get(key).and_then(Value::as_str).is_some_and(|v| normalize(v) == normalize(tag)))
        }),
        _ => false,
    });
    tagged.copied().or_else(|| {
        objects.iter().copied().find(|branch| match &branch.kind {
            SchemaKind::Object(object) => object
                .properties
                .iter()
                .filter(|(_, p)| p.required)
                .all(|(key, _)| map.contains_key(key)),
            _ => false,
        })
    })
}
