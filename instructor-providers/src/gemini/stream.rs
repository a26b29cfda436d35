//! A streamed Gemini answer (`streamGenerateContent?alt=sse`: one whole
//! `GenerateContentResponse` per event) read into neutral events.
//!
//! Text parts arrive as fragments. A function call arrives whole on the Gemini API; on
//! Vertex AI with streamed arguments it arrives as a header (`name`, `willContinue`),
//! `partialArgs` pieces addressed by JSON path (strings continued piece by piece), and
//! an empty `functionCall` that closes it: the pieces are assembled and the call's
//! arguments passed on whole when it closes. Thought summaries and the thought
//! signature are passed on as one reasoning block at the end.

use super::response::{WireFunctionCall, WireResponse, blocked, finish_reason};
use crate::http::events::{EventMapper, Flow};
use crate::http::redact::{MAX_BODY_BYTES, Redactor, truncated};
use crate::sse::SseEventRef;
use instructor_core::chat::{ContentPart, MAX_TOOL_CALLS, ProviderError, StreamEvent};
use serde_json::{Map, Value};
use std::collections::VecDeque;

/// The deepest path and the longest array a piece of streamed arguments may address.
const MAX_PATH_DEPTH: usize = 64;
const MAX_ARRAY_INDEX: usize = 10_000;

/// A Vertex function call whose arguments are still streaming.
#[derive(Debug)]
struct OpenCall {
    index: usize,
    args: Value,
}

/// The state of one streamed Gemini answer.
#[derive(Debug, Default)]
pub(crate) struct GenerateMapper {
    response_id_sent: bool,
    tool_calls: usize,
    open: Option<OpenCall>,
    thoughts: String,
    signature: Option<String>,
    finished: bool,
}

impl GenerateMapper {
    fn next_index(&mut self, data: &str) -> Result<usize, ProviderError> {
        if self.tool_calls >= MAX_TOOL_CALLS {
            return Err(ProviderError::Decode {
                message: format!("more than {MAX_TOOL_CALLS} function calls in one answer"),
                body: truncated(data, MAX_BODY_BYTES),
            });
        }
        self.tool_calls += 1;
        Ok(self.tool_calls - 1)
    }

    /// Passes on the arguments of the call still streaming, if any.
    fn close(&mut self, push: &mut impl FnMut(StreamEvent)) {
        if let Some(call) = self.open.take() {
            push(StreamEvent::ToolArgumentsDelta {
                index: call.index,
                id: None,
                name: None,
                delta: call.args.to_string(),
            });
        }
    }

    fn call(
        &mut self,
        call: WireFunctionCall<'_>,
        data: &str,
        push: &mut impl FnMut(StreamEvent),
    ) -> Result<(), ProviderError> {
        if !call.partial_args.is_empty() {
            let Some(open) = &mut self.open else {
                return Err(ProviderError::Decode {
                    message: "streamed function-call arguments without a call".to_owned(),
                    body: truncated(data, MAX_BODY_BYTES),
                });
            };
            for piece in call.partial_args {
                let value = if let Some(text) = piece.string_value {
                    Piece::Text(text)
                } else if let Some(number) = piece.number_value {
                    Piece::Value(Value::Number(number))
                } else if let Some(flag) = piece.bool_value {
                    Piece::Value(Value::Bool(flag))
                } else if let Some(value) = piece.struct_value.or(piece.list_value) {
                    Piece::Value(value)
                } else {
                    Piece::Value(Value::Null)
                };
                set_at_path(&mut open.args, &piece.json_path, value).map_err(|reason| {
                    ProviderError::Decode {
                        message: format!(
                            "streamed function-call arguments at `{}`: {reason}",
                            truncated(&piece.json_path, 256)
                        ),
                        body: truncated(data, MAX_BODY_BYTES),
                    }
                })?;
            }
            return Ok(());
        }
        let Some(name) = call.name.filter(|name| !name.is_empty()) else {
            // `{}` closes a streamed call; `{"willContinue": true}` between pieces does
            // nothing.
            if call.will_continue != Some(true) {
                self.close(push);
            }
            return Ok(());
        };
        self.close(push);
        let index = self.next_index(data)?;
        let id = call.id.filter(|id| !id.is_empty());
        match call.args {
            Some(args) => push(StreamEvent::ToolArgumentsDelta {
                index,
                id,
                name: Some(name),
                delta: args.get().to_owned(),
            }),
            None if call.will_continue == Some(true) => {
                push(StreamEvent::ToolArgumentsDelta {
                    index,
                    id,
                    name: Some(name),
                    delta: String::new(),
                });
                self.open = Some(OpenCall {
                    index,
                    args: Value::Object(Map::new()),
                });
            }
            // A call without arguments.
            None => push(StreamEvent::ToolArgumentsDelta {
                index,
                id,
                name: Some(name),
                delta: "{}".to_owned(),
            }),
        }
        Ok(())
    }
}

enum Piece {
    /// A string, or the next piece of one.
    Text(String),
    Value(Value),
}

enum Step {
    Key(String),
    Index(usize),
}

/// `$.recipe.ingredients[0].amount` as steps.
fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let mut rest = path
        .strip_prefix('$')
        .ok_or_else(|| "a path starts with `$`".to_owned())?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if steps.len() >= MAX_PATH_DEPTH {
            return Err(format!("deeper than {MAX_PATH_DEPTH} levels"));
        }
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err("an empty key".to_owned());
            }
            steps.push(Step::Key(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| "an unclosed `[`".to_owned())?;
            let inner = &after[..end];
            let step = if let Some(key) = inner
                .strip_prefix('\'')
                .and_then(|inner| inner.strip_suffix('\''))
                .or_else(|| {
                    inner
                        .strip_prefix('"')
                        .and_then(|inner| inner.strip_suffix('"'))
                }) {
                Step::Key(key.to_owned())
            } else {
                let index: usize = inner.parse().map_err(|_| format!("`[{inner}]`"))?;
                Step::Index(index)
            };
            steps.push(step);
            rest = &after[end + 1..];
        } else {
            return Err("expected `.` or `[`".to_owned());
        }
    }
    Ok(steps)
}

/// Sets (or, for a string piece, extends) the value at `path` in `root`, creating the
/// objects and arrays on the way. An array grows by at most one element per piece.
fn set_at_path(root: &mut Value, path: &str, piece: Piece) -> Result<(), String> {
    let steps = parse_path(path)?;
    let mut slot = root;
    for step in &steps {
        slot = match step {
            Step::Key(key) => {
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                let Value::Object(object) = slot else {
                    return Err("not an object".to_owned());
                };
                object.entry(key.clone()).or_insert(Value::Null)
            }
            Step::Index(index) => {
                if *index > MAX_ARRAY_INDEX {
                    return Err(format!("index {index} is past {MAX_ARRAY_INDEX}"));
                }
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                let Value::Array(items) = slot else {
                    return Err("not an array".to_owned());
                };
                if *index > items.len() {
                    return Err(format!(
                        "index {index} skips elements (the array has {})",
                        items.len()
                    ));
                }
                if *index == items.len() {
                    items.push(Value::Null);
                }
                &mut items[*index]
            }
        };
    }
    match (slot, piece) {
        (Value::String(text), Piece::Text(more)) => text.push_str(&more),
        (slot, Piece::Text(text)) => *slot = Value::String(text),
        (slot, Piece::Value(value)) => *slot = value,
    }
    Ok(())
}

impl EventMapper for GenerateMapper {
    fn on_event(
        &mut self,
        event: &SseEventRef<'_>,
        out: &mut VecDeque<Result<StreamEvent, ProviderError>>,
        redactor: &Redactor,
    ) -> Result<Flow, ProviderError> {
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(Flow::Continue);
        }
        let wire: WireResponse<'_> =
            serde_json::from_str(data).map_err(|error| ProviderError::Decode {
                message: format!("unreadable stream event: {error}"),
                body: truncated(data, MAX_BODY_BYTES),
            })?;
        if let Some(error) = wire.error {
            let code = error
                .code
                .filter(|code| (400..600).contains(code))
                .and_then(|code| u16::try_from(code).ok());
            return Err(ProviderError::Stream {
                kind: truncated(error.status.as_deref().unwrap_or("error"), 256),
                message: truncated(error.message.as_deref().unwrap_or("(no message)"), 4096),
                status: code,
            });
        }
        let before = out.len();
        let mut push = |event: StreamEvent| out.push_back(Ok(redactor.event(event)));
        if !self.response_id_sent
            && let Some(id) = wire.response_id.filter(|id| !id.is_empty())
        {
            self.response_id_sent = true;
            push(StreamEvent::ResponseId(id));
        }
        let usage = wire.usage_metadata.filter(|usage| {
            usage.prompt_token_count.is_some() || usage.candidates_token_count.is_some()
        });
        if wire.candidates.is_empty() {
            if let Some(reason) = wire.prompt_feedback.and_then(|f| f.block_reason) {
                if let Some(usage) = usage {
                    push(StreamEvent::Usage(usage.neutral()));
                }
                self.finished = true;
                push(StreamEvent::Finish(blocked(&reason)));
            }
            return Ok(Flow::Continue);
        }
        let mut failure = None;
        for candidate in wire
            .candidates
            .into_iter()
            .filter(|candidate| candidate.index.unwrap_or(0) == 0)
        {
            for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
                if self.signature.is_none() {
                    self.signature = part.thought_signature;
                }
                if let Some(call) = part.function_call {
                    if let Err(error) = self.call(call, data, &mut push) {
                        failure = Some(error);
                        break;
                    }
                } else if let Some(text) = part.text.filter(|text| !text.is_empty()) {
                    if part.thought == Some(true) {
                        self.thoughts.push_str(&text);
                    } else {
                        push(StreamEvent::TextDelta(text));
                    }
                }
            }
            if failure.is_some() {
                break;
            }
            if let Some(reason) = candidate.finish_reason.filter(|r| !r.is_empty()) {
                self.close(&mut push);
                if !self.thoughts.is_empty() || self.signature.is_some() {
                    push(StreamEvent::Reasoning(ContentPart::Thinking {
                        thinking: std::mem::take(&mut self.thoughts),
                        signature: self.signature.take(),
                    }));
                }
                if let Some(usage) = usage {
                    push(StreamEvent::Usage(usage.neutral()));
                }
                self.finished = true;
                push(StreamEvent::Finish(finish_reason(&reason)));
            }
        }
        if let Some(error) = failure {
            out.truncate(before);
            return Err(error);
        }
        Ok(Flow::Continue)
    }

    fn on_end(&self) -> Option<ProviderError> {
        (!self.finished).then(|| ProviderError::Transport {
            message: "stream ended before the answer finished (no finishReason)".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_build_nested_arguments_and_strings_continue() {
        let mut args = Value::Object(Map::new());
        let text = |s: &str| Piece::Text(s.to_owned());
        set_at_path(&mut args, "$.recipe.ingredients[0].amount", text("16 ")).expect("set");
        set_at_path(&mut args, "$.recipe.ingredients[0].amount", text("oz")).expect("more");
        set_at_path(&mut args, "$.recipe.ingredients[1].name", text("Beef")).expect("next");
        set_at_path(&mut args, "$['odd key']", Piece::Value(Value::Bool(true))).expect("quoted");
        assert_eq!(
            args,
            serde_json::json!({
                "recipe": {"ingredients": [{"amount": "16 oz"}, {"name": "Beef"}]},
                "odd key": true,
            })
        );
        for bad in ["recipe", "$.a[99999999]", "$.a[2]", "$.", "$[x]", "$.a["] {
            assert!(
                set_at_path(&mut args, bad, text("x")).is_err(),
                "{bad} should be refused"
            );
        }
        let deep = format!("${}", ".a".repeat(100));
        assert!(set_at_path(&mut args, &deep, text("x")).is_err());
    }
}
