//! Assembles a `serde_json::Value` from events, for values shown only once complete.

use super::{Event, PartialError, PathSegment, WirePath};
use serde_json::{Map, Number, Value};

/// Builds one JSON value from the events of its subtree.
///
/// The paths it receives are relative to the value being built, so the key of a member
/// is the last path segment.
#[derive(Debug, Default)]
pub struct ValueBuilder {
    stack: Vec<(Option<String>, Value)>,
    text: String,
    in_string: bool,
}

impl ValueBuilder {
    /// Drops a value half assembled (after an error), so the next value starts clean.
    pub fn reset(&mut self) {
        self.stack.clear();
        self.text.clear();
        self.in_string = false;
    }

    /// Whether the object being assembled at the root has all of `keys` (complete).
    pub fn root_has_keys(&self, keys: &[&str]) -> bool {
        match self.stack.first() {
            Some((_, Value::Object(map))) if self.stack.len() == 1 => {
                keys.iter().all(|k| map.contains_key(*k))
            }
            _ => false,
        }
    }

    /// A completed member of the root object being assembled.
    pub fn peek_root_key(&self, key: &str) -> Option<&Value> {
        match self.stack.first() {
            Some((_, Value::Object(map))) if self.stack.len() == 1 => map.get(key),
            _ => None,
        }
    }

    /// Takes the root object being assembled, with the members completed so far, and
    /// starts over. Only when nothing below the root is open.
    pub fn take_open_root(&mut self) -> Option<Value> {
        if self.stack.len() != 1 || self.in_string {
            return None;
        }
        self.stack.pop().map(|(_, value)| value)
    }

    /// Whether a value is being assembled.
    pub fn is_active(&self) -> bool {
        !self.stack.is_empty() || self.in_string
    }

    /// Feeds one event; returns the value once its last event arrived.
    pub fn push(
        &mut self,
        path: &[PathSegment],
        event: &Event<'_>,
    ) -> Result<Option<Value>, PartialError> {
        let key = match path.last() {
            Some(PathSegment::Key(key)) if path.len() == self.stack.len() => Some(key.clone()),
            _ => None,
        };
        match event {
            // The key arrives again as the last segment of its value's path.
            Event::Key(_) => Ok(None),
            Event::BeginObject => {
                self.stack.push((key, Value::Object(Map::new())));
                Ok(None)
            }
            Event::BeginArray => {
                self.stack.push((key, Value::Array(Vec::new())));
                Ok(None)
            }
            Event::EndObject | Event::EndArray => match self.stack.pop() {
                Some((key, value)) => Ok(self.attach(key, value)),
                None => {
                    self.reset();
                    Err(PartialError::Invalid {
                        path: WirePath::from(path),
                        message: "container closed before it was opened".to_owned(),
                    })
                }
            },
            Event::BeginString => {
                self.text.clear();
                self.in_string = true;
                Ok(None)
            }
            Event::StringFragment(fragment) => {
                self.in_string = true;
                self.text.push_str(fragment);
                Ok(None)
            }
            Event::EndString => {
                self.in_string = false;
                let text = std::mem::take(&mut self.text);
                Ok(self.attach(key, Value::String(text)))
            }
            Event::Number(raw) => match parse_number(raw) {
                Some(number) => Ok(self.attach(key, Value::Number(number))),
                None => {
                    self.reset();
                    Err(PartialError::Invalid {
                        path: WirePath::from(path),
                        message: format!("`{raw}` is not a JSON number"),
                    })
                }
            },
            Event::Bool(value) => Ok(self.attach(key, Value::Bool(*value))),
            Event::Null => Ok(self.attach(key, Value::Null)),
        }
    }

    /// Puts a finished value into its parent, or returns it when it is the root.
    fn attach(&mut self, key: Option<String>, value: Value) -> Option<Value> {
        match self.stack.last_mut() {
            None => Some(value),
            Some((_, Value::Object(map))) => {
                map.insert(key.unwrap_or_default(), value);
                None
            }
            Some((_, Value::Array(items))) => {
                items.push(value);
                None
            }
            Some(_) => None,
        }
    }
}

/// Parses a JSON number the way serde_json does (integers stay integers).
pub(crate) fn parse_number(raw: &str) -> Option<Number> {
    if let Ok(v) = raw.parse::<u64>() {
        return Some(Number::from(v));
    }
    if let Ok(v) = raw.parse::<i64>() {
        // serde_json reads `-0` as the float -0.0.
        if v == 0 {
            return Number::from_f64(-0.0);
        }
        return Some(Number::from(v));
    }
    raw.parse::<f64>().ok().and_then(Number::from_f64)
}
