//! Lenient reading of prompted answers: find the JSON in what a model wrote (fences,
//! prose, `<think>` blocks), parse it leniently, and coerce it towards `T`'s schema.
//! Every repair and coercion is recorded; strict mode never repairs.
//!
//! This is the one lenient reading: [`read_lenient`] (behind `.await`) and the end of
//! [`PartialStream::lenient`](super::PartialStream::lenient) (behind `.partial()`) both
//! run [`read_with`] over the whole answer, so a text gives the same value or the same
//! error whole or streamed, in any chunking. The stream's partials are a preview of it.
//!
//! What is read, in order:
//! 1. The answer is scanned once from the start. `<think>...</think>` blocks are
//!    skipped (an unclosed one runs to the end; a `</think>` without its opening tag
//!    makes everything before it reasoning). A fence is three backticks and an
//!    optional language tag; its body may start on the same line
//!    (```` ```json {"a": 1} ``` ````). Each `{` or `[` outside a value already read
//!    (and a bare scalar at the start of the answer or of a fence) starts a candidate,
//!    parsed leniently to its end; the scan goes on after it, so nothing inside a
//!    value (a fence or a `<think>` in a string) is taken for markup.
//! 2. Candidates inside reasoning are never read. The others are tried in order of
//!    preference until one is a `T`: a value in a ` ```json ` (or unlabelled) fence,
//!    then in another fence, then in prose; a complete value before one cut off by
//!    the end; a non-empty one before `[]` or `{}`; the last before an earlier one (a
//!    draft the model corrected, a format example it echoed).
//! 3. The value is coerced towards `T`'s schema (see [`coerce_to`]) and deserialized.
//!
//! The repairs say what was skipped (text, fences, reasoning), every candidate passed
//! over and why ([`RepairKind::SkippedCandidate`]), what the parser repaired and what
//! was coerced.

use super::parser::{FeedError, Limits, ParseError, ParseErrorKind, Parser, Repair, RepairKind};
use super::typed::StreamError;
use crate::extract::{DeserializeError, Extract, read_json_value};
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

/// Candidates that fail to parse may each run far into the text; all of them together
/// read at most this many times its length (plus [`PARSE_BUDGET_SLACK`] bytes), so a
/// hostile answer full of `{` costs linear time.
const PARSE_BUDGET_PER_BYTE: usize = 8;
const PARSE_BUDGET_SLACK: usize = 1 << 16;

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";
const FENCE: &str = "```";

/// Reads a `T` from a model's free-form answer.
///
/// The JSON may sit in a fenced block, in prose, or after a `<think>` block; it may
/// have comments, trailing commas, unquoted keys, single or curly quotes, Python
/// literals or a truncated tail; and its values may need schema-guided coercion
/// (`"25"` to 25, `"$1,199.99"` to 1199.99, one value to a list, an enum in another
/// case, `First Name` for `first_name`, `{"Ticket": {...}}` around the value). With
/// several values, a fenced one is preferred, then the last complete one. What cannot be
/// read without guessing is an error.
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
    read_with::<T>(text, Limits::default())
}

/// [`read_lenient`] with parser limits (the stream's, at its end).
pub(crate) fn read_with<T: Extract>(text: &str, limits: Limits) -> Result<Lenient<T>, StreamError> {
    let scan = scan(text, limits);
    let mut order: Vec<usize> = (0..scan.found.len())
        .filter(|&i| scan.found.get(i).is_some_and(|f| !f.in_reasoning))
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(scan.found.get(i).map(Found::rank)));
    let mut tried: Vec<(usize, StreamError)> = Vec::new();
    for index in order {
        let Some(found) = scan.found.get(index) else {
            continue;
        };
        let mut repairs = Vec::new();
        let mut value = found.value.clone();
        coerce_to::<T>(&mut value, &mut repairs);
        match read_json_value::<T>(&value) {
            Ok(value) => {
                let mut all = scan.skipped_text(found);
                all.extend(scan.skipped_candidates::<T>(index, &tried));
                all.extend(found.repairs.iter().cloned());
                all.append(&mut repairs);
                return Ok(Lenient {
                    value,
                    repairs: all,
                });
            }
            Err(error) => tried.push((index, StreamError::Deserialize(error))),
        }
    }
    // Nothing is a `T`: the error of the value most likely meant, else why no value
    // could be parsed.
    if let Some((_, error)) = tried.into_iter().next() {
        return Err(error);
    }
    if let Some(error) = scan.failure {
        return Err(StreamError::Parse(error));
    }
    let message = if scan.found.is_empty() {
        "the answer holds no JSON"
    } else {
        "the answer holds no JSON outside its reasoning"
    };
    Err(no_value(message))
}

fn no_value(message: &str) -> StreamError {
    StreamError::Deserialize(DeserializeError::new(crate::WirePath::root(), message))
}

/// Where a candidate sits, in increasing order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Prose,
    /// A fence labelled with another language (` ```python `).
    OtherFence,
    /// A ` ```json ` or unlabelled fence.
    JsonFence,
}

/// A JSON value found in the answer.
#[derive(Debug)]
struct Found {
    /// Where it starts in the answer.
    start: usize,
    value: Value,
    /// The parser's repairs (offsets in the answer).
    repairs: Vec<Repair>,
    place: Place,
    /// The fence's language tag, for a fenced value.
    language: String,
    /// Read to its end, without closing a cut-off tail.
    complete: bool,
    /// Before a `</think>` that had no opening tag.
    in_reasoning: bool,
    /// Prose (not whitespace, not reasoning) precedes it.
    prose_before: bool,
    /// Prose follows it.
    prose_after: bool,
}

impl Found {
    /// The order of preference (greater first).
    fn rank(&self) -> (Place, bool, bool, usize) {
        let non_empty = match &self.value {
            Value::Array(items) => !items.is_empty(),
            Value::Object(members) => !members.is_empty(),
            _ => true,
        };
        (self.place, self.complete, non_empty, self.start)
    }

    /// Why it was passed over for `chosen`.
    fn passed_over(&self, chosen: &Found) -> String {
        let at = self.start;
        if self.in_reasoning {
            return format!("a value at byte {at} inside reasoning (before `</think>`)");
        }
        let (place, complete, non_empty, start) = self.rank();
        let (c_place, c_complete, c_non_empty, _) = chosen.rank();
        if place < c_place {
            match chosen.place {
                Place::JsonFence => format!("a value at byte {at} outside a ```json fence"),
                _ => format!("a value at byte {at} outside a fence"),
            }
        } else if !complete && c_complete {
            format!("a value at byte {at} cut off by the end of the answer")
        } else if !non_empty && c_non_empty {
            format!("an empty value at byte {at}")
        } else if start < chosen.start {
            format!("an earlier value at byte {at} (the last complete one is read)")
        } else {
            format!("a value at byte {at}")
        }
    }
}

/// What one pass over the answer found.
#[derive(Debug, Default)]
struct Scan {
    found: Vec<Found>,
    /// Why the first `{` or `[` that could not be parsed failed (fenced ones first).
    failure: Option<ParseError>,
    failure_fenced: bool,
    think_blocks: bool,
    /// Whether a `</think>` without an opening tag made what precedes it reasoning.
    orphan_close: bool,
}

impl Scan {
    /// The text skipped to read `found`.
    fn skipped_text(&self, found: &Found) -> Vec<Repair> {
        let mut what = Vec::new();
        if self.think_blocks {
            what.push("a <think> block".to_owned());
        }
        if self.orphan_close {
            what.push("reasoning before `</think>`".to_owned());
        }
        if found.place == Place::Prose {
            if found.prose_before {
                what.push("text before the JSON".to_owned());
            }
            if found.prose_after {
                what.push("text after the JSON".to_owned());
            }
        } else {
            what.push(format!("the text around a ```{} fence", found.language));
        }
        what.into_iter()
            .map(|what| Repair {
                offset: 0,
                path: String::new(),
                kind: RepairKind::SkippedText { what },
            })
            .collect()
    }

    /// A repair for every candidate other than `chosen`.
    fn skipped_candidates<T: Extract>(
        &self,
        chosen: usize,
        tried: &[(usize, StreamError)],
    ) -> Vec<Repair> {
        let Some(winner) = self.found.get(chosen) else {
            return Vec::new();
        };
        self.found
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != chosen)
            .map(|(i, found)| {
                let why = match tried.iter().find(|(t, _)| *t == i) {
                    Some((_, error)) => format!(
                        "a value at byte {} that is not a `{}` ({error})",
                        found.start,
                        T::name()
                    ),
                    None => found.passed_over(winner),
                };
                Repair {
                    offset: found.start as u64,
                    path: String::new(),
                    kind: RepairKind::SkippedCandidate { why },
                }
            })
            .collect()
    }
}

/// Whether `byte` may start a bare scalar answer (`"Paris"`, `42`, `true`).
fn starts_scalar(byte: u8) -> bool {
    matches!(byte, b'"' | b'\'' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
}

/// One pass over the answer: every candidate value, parsed, and what was skipped.
fn scan(text: &str, limits: Limits) -> Scan {
    let bytes = text.as_bytes();
    let mut scan = Scan::default();
    let mut p = 0;
    let mut budget = text
        .len()
        .saturating_mul(PARSE_BUDGET_PER_BYTE)
        .saturating_add(PARSE_BUDGET_SLACK);
    // Inside a fence: its place and language.
    let mut fence: Option<(Place, &str)> = None;
    // At the start of the answer or of a fence body: a bare scalar may be the answer.
    let mut at_start = true;
    let mut prose_before = false;
    while let Some(&byte) = bytes.get(p) {
        let Some(rest) = text.get(p..) else {
            // Inside a multi-byte character: its other bytes are never markup.
            p += 1;
            continue;
        };
        if rest.starts_with(THINK_OPEN) {
            scan.think_blocks = true;
            p = match rest.find(THINK_CLOSE) {
                Some(close) => p + close + THINK_CLOSE.len(),
                None => text.len(),
            };
            continue;
        }
        if rest.starts_with(THINK_CLOSE) {
            // No opening tag: what came before was reasoning, drafts included.
            scan.orphan_close = true;
            for found in &mut scan.found {
                found.in_reasoning = true;
            }
            scan.failure = None;
            scan.failure_fenced = false;
            prose_before = false;
            at_start = true;
            p += THINK_CLOSE.len();
            continue;
        }
        if rest.starts_with(FENCE) {
            p += FENCE.len();
            if fence.take().is_none() {
                let tag_len = bytes
                    .get(p..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'.')
                    })
                    .count();
                let language = text.get(p..p + tag_len).unwrap_or_default();
                let place =
                    if language.is_empty() || language.to_ascii_lowercase().starts_with("json") {
                        Place::JsonFence
                    } else {
                        Place::OtherFence
                    };
                fence = Some((place, language));
                p += tag_len;
                at_start = true;
            }
            continue;
        }
        let candidate = byte == b'{' || byte == b'[' || (at_start && starts_scalar(byte));
        if candidate && budget > 0 {
            let (parsed, cost) = parse_candidate(text, p, fence.is_some(), limits);
            budget = budget.saturating_sub(cost);
            match parsed {
                Ok(parsed) => {
                    let (place, language) = fence.unwrap_or((Place::Prose, ""));
                    scan.found.push(Found {
                        start: p,
                        value: parsed.value,
                        repairs: parsed.repairs,
                        place,
                        language: language.to_owned(),
                        complete: parsed.complete,
                        in_reasoning: false,
                        prose_before,
                        prose_after: has_text_after(text, parsed.end),
                    });
                    p = parsed.end.max(p + 1);
                    at_start = false;
                    continue;
                }
                Err(error) => {
                    let fenced = fence.is_some();
                    // A word at the start of prose ("no, I can't") is no JSON error.
                    let structured = byte == b'{' || byte == b'[';
                    if structured && (scan.failure.is_none() || (fenced && !scan.failure_fenced)) {
                        scan.failure = Some(error);
                        scan.failure_fenced = fenced;
                    }
                }
            }
        }
        if !byte.is_ascii_whitespace() {
            at_start = false;
            if fence.is_none() {
                prose_before = true;
            }
        }
        p += 1;
    }
    scan
}

/// Whether prose (not whitespace, fences or reasoning) follows `end`.
fn has_text_after(text: &str, end: usize) -> bool {
    let mut rest = text.get(end..).unwrap_or_default();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(THINK_OPEN) {
            rest = after
                .find(THINK_CLOSE)
                .and_then(|close| after.get(close + THINK_CLOSE.len()..))
                .unwrap_or_default();
            continue;
        }
        return !rest.is_empty();
    }
}

/// One candidate, parsed.
struct Parsed {
    value: Value,
    repairs: Vec<Repair>,
    end: usize,
    complete: bool,
}

/// Parses the value starting at `start`, and how many bytes that looked at. A fenced
/// value that cannot be read to the end of the answer (an unterminated string runs
/// past the closing fence) is read again up to the fence.
fn parse_candidate(
    text: &str,
    start: usize,
    fenced: bool,
    limits: Limits,
) -> (Result<Parsed, ParseError>, usize) {
    let rest = text.get(start..).unwrap_or_default();
    let whole = parse_value(rest.as_bytes(), start, limits);
    let reached = |result: &Result<Parsed, ParseError>| match result {
        Ok(parsed) => parsed.end,
        Err(error) => usize::try_from(error.offset).unwrap_or(text.len()),
    };
    let mut cost = reached(&whole).saturating_sub(start).max(1);
    if !fenced || whole.as_ref().is_ok_and(|parsed| parsed.complete) {
        return (whole, cost);
    }
    let Some(close) = rest.find(FENCE) else {
        return (whole, cost);
    };
    cost = cost.saturating_add(close);
    // The line break before the fence belongs to it, not to a cut-off string.
    let body = rest.get(..close).unwrap_or_default().trim_end();
    if body.is_empty() {
        return (whole, cost);
    }
    let bounded = parse_value(body.as_bytes(), start, limits);
    cost = cost.saturating_add(reached(&bounded).saturating_sub(start));
    match bounded {
        Ok(bounded) => (Ok(bounded), cost),
        Err(error) => (whole.map_err(|_| error), cost),
    }
}

/// A lenient parse of one JSON value at the start of `bytes` (which sit at `base` in
/// the answer); text after it is left for the scan.
fn parse_value(bytes: &[u8], base: usize, limits: Limits) -> Result<Parsed, ParseError> {
    let mut parser = Parser::lenient(limits);
    let mut builder = ValueBuilder::default();
    let mut value = None;
    let mut sink = |path: &[PathSegment], event: Event<'_>| -> Result<(), (String, PartialError)> {
        match builder.push(path, &event) {
            Ok(Some(done)) => value = Some(done),
            Ok(None) => {}
            Err(error) => return Err((display_path(path), error)),
        }
        Ok(())
    };
    let at = |mut error: ParseError| {
        error.offset += base as u64;
        error
    };
    // The builder only fails on events the parser never sends in this order.
    let to_parse_error = |error: FeedError<(String, PartialError)>, parser: &Parser| match error {
        FeedError::Parse(e) => at(e),
        FeedError::Sink((path, error)) => at(ParseError {
            kind: ParseErrorKind::Unexpected {
                found: 0,
                expected: "a JSON value",
            },
            offset: parser.bytes_consumed(),
            path: format!("{path}: {error}"),
        }),
    };
    let end = match parser.feed(bytes, &mut sink) {
        Ok(()) => bytes.len(),
        Err(FeedError::Parse(e)) if e.kind == ParseErrorKind::TrailingCharacters => {
            usize::try_from(e.offset).unwrap_or(bytes.len())
        }
        Err(e) => return Err(to_parse_error(e, &parser)),
    };
    if let Err(e) = parser.finish(&mut sink) {
        return Err(to_parse_error(e, &parser));
    }
    let mut repairs = parser.take_repairs();
    for repair in &mut repairs {
        repair.offset += base as u64;
    }
    let complete = !repairs.iter().any(|r| {
        matches!(
            r.kind,
            RepairKind::ClosedString
                | RepairKind::ClosedContainers { .. }
                | RepairKind::DroppedIncompleteValue
        )
    });
    let value = value.ok_or(ParseError {
        kind: ParseErrorKind::Empty,
        offset: base as u64,
        path: String::new(),
    })?;
    Ok(Parsed {
        value,
        repairs,
        end: base + end,
        complete,
    })
}

/// Schema-guided coercion of `value` towards `T`, recording each change:
/// - a number or boolean written as a string (`"25"`, `"FALSE"`), a number with a
///   currency sign or thousands separators (`"$1,199.99"`, `"1,200 €"`), a whole
///   float for an integer (`3.0`), a number for a string;
/// - an enum value or a constant tag in another case or spelling (`"Very High!"` for
///   `very_high`), when exactly one matches;
/// - one value for a list (`"ui"` for `["ui"]`);
/// - an object or list double-encoded as a JSON string (`"{\"a\": 1}"`);
/// - a key that differs from exactly one field's wire name only by case, spaces or
///   separators (`First Name`, `first-name`, `FirstName` for `first_name`), when that
///   field is not also present;
/// - `{"Ticket": {...}}` around a `Ticket`.
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
        (SchemaKind::Integer(_), Value::String(text)) => {
            number_text(text).and_then(|text| integer_from_text(&text))
        }
        (SchemaKind::Integer(_), Value::Number(n)) if n.is_f64() => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| Value::from(f as i64)),
        (SchemaKind::Number(_), Value::String(text)) => number_text(text)
            .and_then(|text| text.parse::<f64>().ok())
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        (SchemaKind::Object(_), Value::String(text)) => double_encoded(text, Value::is_object),
        (SchemaKind::Array(_), Value::String(text))
            if double_encoded(text, Value::is_array).is_some() =>
        {
            double_encoded(text, Value::is_array)
        }
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
            if !matches!(object.additional, AdditionalProperties::Schema(_)) {
                rename_keys(map, object.properties.keys(), path, repairs);
            }
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

/// A JSON object or list written inside a string, as the type `wanted` accepts.
fn double_encoded(text: &str, wanted: fn(&Value) -> bool) -> Option<Value> {
    let trimmed = text.trim();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<Value>(trimmed).ok().filter(wanted)
}

/// The number in `text` as Rust parses it: trimmed, without a currency sign
/// (`$`, `€`, `£`, `¥`, `₹`, before or after) and without thousands separators
/// (`1,199.99`; only where every group after the first has three digits, so `1,5` is
/// refused rather than guessed).
fn number_text(text: &str) -> Option<String> {
    const CURRENCIES: [char; 5] = ['$', '€', '£', '¥', '₹'];
    let mut rest = text.trim();
    let mut negative = false;
    if let Some(after) = rest.strip_prefix('-') {
        negative = true;
        rest = after.trim_start();
    }
    if let Some(after) = rest.strip_prefix(CURRENCIES) {
        rest = after.trim_start();
    } else if let Some(before) = rest.strip_suffix(CURRENCIES) {
        rest = before.trim_end();
    }
    if !negative && let Some(after) = rest.strip_prefix('-') {
        negative = true;
        rest = after;
    }
    let (whole, fraction) = match rest.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (rest, None),
    };
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or_default();
    let mut digits = String::with_capacity(rest.len() + 1);
    if negative {
        digits.push('-');
    }
    digits.push_str(first);
    let mut grouped = false;
    for group in groups {
        if first.is_empty()
            || first.len() > 3
            || group.len() != 3
            || !group.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        grouped = true;
        digits.push_str(group);
    }
    if grouped && !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(fraction) = fraction {
        digits.push('.');
        digits.push_str(fraction);
    }
    Some(digits)
}

/// Renames each key that matches no field but differs from exactly one field's wire
/// name only by case, spaces or separators, when that field is not present too.
fn rename_keys<'a>(
    map: &mut serde_json::Map<String, Value>,
    fields: impl Iterator<Item = &'a String> + Clone,
    path: &[PathSegment],
    repairs: &mut Vec<Repair>,
) {
    let unknown: Vec<String> = map
        .keys()
        .filter(|key| !fields.clone().any(|field| field == *key))
        .cloned()
        .collect();
    for key in unknown {
        let wanted = normalize(&key);
        if wanted.is_empty() {
            continue;
        }
        let mut matches = fields.clone().filter(|field| normalize(field) == wanted);
        let (Some(field), None) = (matches.next(), matches.next()) else {
            continue;
        };
        if map.contains_key(field) {
            continue;
        }
        if let Some(member) = map.remove(&key) {
            map.insert(field.clone(), member);
            repairs.push(Repair {
                offset: 0,
                path: display_path(path),
                kind: RepairKind::RenamedKey {
                    from: key,
                    to: field.clone(),
                },
            });
        }
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
