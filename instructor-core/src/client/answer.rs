//! Reading an answer into a value: which part of the response holds the JSON (the
//! forced tool's arguments, the parallel calls as one list, or the text), and how it
//! is read (strictly in constrained modes, leniently in prompted ones). `.await`,
//! `.partial()` and `.iter()` all end an attempt here, on the response as a whole, so
//! the same answer gives the same value or the same error whichever way it arrived.

use super::request::WRAPPED;
use crate::chat::{ChatResponse, Mode, OutputSpec, ToolCall};
use crate::extract::Extract;
use crate::validate::ValidationErrors;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Why an answer is not a value yet; both kinds are re-asked.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// Not readable as the type: not JSON, the wrong shape, prose, a wrong tool.
    Parse(String),
    /// Read, but a rule failed.
    Validation(ValidationErrors),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Parse(message) => f.write_str(message),
            Failure::Validation(errors) => write!(f, "{errors}"),
        }
    }
}

/// An answer read: the value (not yet validated) or why not. The text it was read from
/// stays in the response (borrowed while reading, not copied); the ledger takes its
/// copy from there ([`raw_text`]).
pub(crate) struct Answer<V> {
    /// The value, or why the answer is not one.
    pub value: Result<V, Failure>,
}

/// Reads `response` as a `V` the way `spec`'s mode calls for.
pub(crate) fn read_answer<V: Extract>(spec: &OutputSpec, response: &ChatResponse) -> Answer<V> {
    let value = match answer_text(spec, response) {
        Err(message) => Err(Failure::Parse(message)),
        Ok(text) => read_value::<V>(spec, &text).map_err(Failure::Parse),
    };
    Answer { value }
}

/// What the answer holds, for the ledger, whether or not it is well formed: the text
/// [`answer_text`] gives when the answer has the right shape. A tool call's arguments
/// are shared with the response, not copied.
pub(crate) fn raw_text(spec: &OutputSpec, response: &ChatResponse) -> Option<Arc<str>> {
    match spec.mode {
        Mode::ParallelTools if !response.tool_calls.is_empty() => {
            Some(parallel_items(&response.tool_calls).into())
        }
        mode if mode.uses_tools() => response
            .tool_calls
            .first()
            .map(|call| Arc::clone(&call.arguments))
            .or_else(|| response.text.as_deref().map(Arc::from)),
        _ => response.text.as_deref().map(Arc::from),
    }
}

/// The JSON text of the answer, by mode (borrowed from the response, except the list
/// of parallel calls); `Err` says (to the model) what is wrong with the answer's shape.
pub(crate) fn answer_text<'a>(
    spec: &OutputSpec,
    response: &'a ChatResponse,
) -> Result<Cow<'a, str>, String> {
    let name = &spec.name;
    if !spec.mode.uses_tools() {
        return match &response.text {
            Some(text) if !text.trim().is_empty() => Ok(Cow::Borrowed(text)),
            _ => Err("the answer was empty".to_owned()),
        };
    }
    let calls = response.tool_calls.as_slice();
    if calls.is_empty() {
        return Err(match &response.text {
            Some(text) if !text.trim().is_empty() => {
                format!("the answer was prose instead of a call of the `{name}` tool: {text:?}")
            }
            _ => format!("the answer was empty instead of a call of the `{name}` tool"),
        });
    }
    if spec.mode == Mode::ParallelTools {
        let unknown: Vec<&str> = calls
            .iter()
            .filter(|call| !spec.tools.iter().any(|tool| tool.name == call.name))
            .map(|call| call.name.as_str())
            .collect();
        if !unknown.is_empty() {
            let offered: Vec<&str> = spec.tools.iter().map(|t| t.name.as_str()).collect();
            return Err(format!(
                "the answer called {}, which {} not offered; call only these tools: {}",
                quoted(&unknown),
                if unknown.len() == 1 { "was" } else { "were" },
                quoted(&offered)
            ));
        }
        return Ok(Cow::Owned(parallel_items(calls)));
    }
    match calls {
        [call] if &call.name == name => Ok(Cow::Borrowed(&call.arguments)),
        [call] => Err(format!(
            "the answer called `{}`, which was not offered; call the `{name}` tool",
            call.name
        )),
        calls => Err(format!(
            "{} tool calls arrived where one call of `{name}` was asked for",
            calls.len()
        )),
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The calls of a parallel-tools answer as the list they stand for: each call one item
/// of the enum, tagged with its tool's name (`[{"Search": {...}}, {"Lookup": {...}}]`).
pub(crate) fn parallel_items(calls: &[ToolCall]) -> String {
    let items: Vec<String> = calls.iter().map(parallel_item).collect();
    format!("[{}]", items.join(","))
}

/// One call as one tagged item (`{"Search": {...}}`).
fn parallel_item(call: &ToolCall) -> String {
    let name = serde_json::Value::String(call.name.clone());
    format!("{{{name}: {}}}", call.arguments)
}

/// Reads the value from the answer's JSON text, the way the mode calls for (strictly
/// for constrained modes, leniently for prompted ones). Validation comes after.
pub(crate) fn read_value<V: Extract>(spec: &OutputSpec, text: &str) -> Result<V, String> {
    if spec.mode.is_prompted() {
        // Untrimmed: the lenient reading is the one the stream makes, offsets included.
        return crate::stream::read_lenient::<V>(text)
            .map(|read| read.value)
            .map_err(|e| e.to_string());
    }
    let text = text.trim();
    // Every wrong field at once (checked against the schema), so one re-ask names
    // them all.
    let read = if spec.wraps_root() {
        crate::extract::read_json_under::<V>(text.as_bytes(), WRAPPED)
    } else {
        // serde alone first: a valid answer (the usual case) is read once, without
        // tracking paths; an invalid one is read again to name every wrong field.
        if let Ok(value) = serde_json::from_str::<V>(text) {
            return Ok(value);
        }
        crate::extract::read_json::<V>(text)
    };
    read.map_err(|e| e.to_string())
}
