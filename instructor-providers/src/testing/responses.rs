//! OpenAI Responses API bodies for the fake provider: a whole `response` object and its
//! streamed events (`response.created`, `response.output_item.added`,
//! `response.output_text.delta`, `response.refusal.delta`,
//! `response.function_call_arguments.delta`, `response.output_item.done`, and
//! `response.completed` / `response.incomplete` with the usage), shaped after OpenAI's
//! published description. Each event is framed as `event: <type>\ndata: <json>\n\n`.

use serde_json::{Value, json};

use super::{Reply, strings};

/// The path of the Responses endpoint.
pub const RESPONSES_PATH: &str = "/v1/responses";

const DEFAULT_ID: &str = "resp_fake";

#[derive(Clone, Debug)]
enum Item {
    Reasoning(String),
    Text(Vec<String>),
    Refusal(String),
    Call {
        name: String,
        fragments: Vec<String>,
    },
}

/// One Responses answer, whole ([`to_json`](Self::to_json)) or streamed
/// ([`to_sse_events`](Self::to_sse_events)). Defaults: status `completed`, usage 10
/// input and 5 output tokens.
///
/// ```
/// use instructor_providers::testing::responses::Response;
///
/// let body = Response::function_call("User", r#"{"name": "Ada"}"#).to_json();
/// assert_eq!(body["output"][0]["type"], "function_call");
/// assert_eq!(body["output"][0]["arguments"], r#"{"name": "Ada"}"#);
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Response {
    items: Vec<Item>,
    incomplete: Option<String>,
    usage: (u64, u64, u64),
}

impl Response {
    fn new(item: Item) -> Self {
        Response {
            items: vec![item],
            incomplete: None,
            usage: (10, 5, 0),
        }
    }

    /// A text answer.
    pub fn text(text: impl Into<String>) -> Self {
        Self::text_fragments([text.into()])
    }

    /// A text answer streamed in these fragments.
    pub fn text_fragments<I, S>(fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Item::Text(strings(fragments)))
    }

    /// A refusal.
    pub fn refusal(text: impl Into<String>) -> Self {
        Self::new(Item::Refusal(text.into()))
    }

    /// A function call.
    pub fn function_call(name: impl Into<String>, arguments: impl Into<String>) -> Self {
        Self::function_call_fragments(name, [arguments.into()])
    }

    /// A function call, its arguments streamed in these fragments.
    pub fn function_call_fragments<I, S>(name: impl Into<String>, fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Item::Call {
            name: name.into(),
            fragments: strings(fragments),
        })
    }

    /// Another function call.
    pub fn and_function_call(
        mut self,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        self.items.push(Item::Call {
            name: name.into(),
            fragments: vec![arguments.into()],
        });
        self
    }

    /// A reasoning summary before the rest.
    pub fn reasoning_first(mut self, summary: impl Into<String>) -> Self {
        self.items.insert(0, Item::Reasoning(summary.into()));
        self
    }

    /// Ends `incomplete` for `reason` (`max_output_tokens`, `content_filter`).
    pub fn incomplete(mut self, reason: impl Into<String>) -> Self {
        self.incomplete = Some(reason.into());
        self
    }

    /// Input, output and reasoning tokens.
    pub fn usage(mut self, input: u64, output: u64, reasoning: u64) -> Self {
        self.usage = (input, output, reasoning);
        self
    }

    fn item_json(index: usize, item: &Item) -> Value {
        match item {
            Item::Reasoning(summary) => json!({
                "type": "reasoning", "id": format!("rs_{index}"),
                "summary": [{"type": "summary_text", "text": summary}],
            }),
            Item::Text(fragments) => json!({
                "type": "message", "id": format!("msg_{index}"), "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": fragments.concat(), "annotations": [], "logprobs": []}],
            }),
            Item::Refusal(text) => json!({
                "type": "message", "id": format!("msg_{index}"), "role": "assistant",
                "status": "completed",
                "content": [{"type": "refusal", "refusal": text}],
            }),
            Item::Call { name, fragments } => json!({
                "type": "function_call", "id": format!("fc_{index}"),
                "call_id": format!("call_fake_{index}"), "name": name,
                "arguments": fragments.concat(), "status": "completed",
            }),
        }
    }

    /// The whole `response` object.
    pub fn to_json(&self) -> Value {
        let (input, output, reasoning) = self.usage;
        // What a real response carries, nulls and defaults included.
        let mut body = json!({
            "id": DEFAULT_ID,
            "object": "response",
            "created_at": 1_700_000_000,
            "model": "gpt-4.1-mini",
            "error": null,
            "incomplete_details": null,
            "instructions": null,
            "metadata": {},
            "parallel_tool_calls": true,
            "temperature": 1.0,
            "top_p": 1.0,
            "tool_choice": "auto",
            "tools": [],
            "status": if self.incomplete.is_some() { "incomplete" } else { "completed" },
            "output": self.items.iter().enumerate().map(|(i, item)| Self::item_json(i, item)).collect::<Vec<_>>(),
            "usage": {
                "input_tokens": input,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": output,
                "output_tokens_details": {"reasoning_tokens": reasoning},
                "total_tokens": input + output,
            },
        });
        if let Some(reason) = &self.incomplete {
            body["incomplete_details"] = json!({"reason": reason});
        }
        body
    }

    /// The whole answer as a `200` JSON [`Reply`].
    pub fn reply(&self) -> Reply {
        Reply::json(200, self.to_json())
    }

    /// The streamed events.
    pub fn to_sse_events(&self) -> Vec<String> {
        let mut created = self.to_json();
        created["status"] = json!("in_progress");
        created["output"] = json!([]);
        let mut events = vec![frame("response.created", json!({"response": created}))];
        for (index, item) in self.items.iter().enumerate() {
            let whole = Self::item_json(index, item);
            let mut added = whole.clone();
            match item {
                Item::Text(_) | Item::Refusal(_) => added["content"] = json!([]),
                Item::Call { .. } => added["arguments"] = json!(""),
                Item::Reasoning(_) => added["summary"] = json!([]),
            }
            events.push(frame(
                "response.output_item.added",
                json!({"output_index": index, "item": added}),
            ));
            let item_id = whole["id"].clone();
            match item {
                Item::Text(fragments) => {
                    for fragment in fragments {
                        events.push(frame(
                            "response.output_text.delta",
                            json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": fragment, "logprobs": []}),
                        ));
                    }
                }
                Item::Refusal(text) => events.push(frame(
                    "response.refusal.delta",
                    json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": text}),
                )),
                Item::Call { fragments, .. } => {
                    for fragment in fragments {
                        events.push(frame(
                            "response.function_call_arguments.delta",
                            json!({"item_id": item_id, "output_index": index, "delta": fragment}),
                        ));
                    }
                }
                Item::Reasoning(_) => {}
            }
            events.push(frame(
                "response.output_item.done",
                json!({"output_index": index, "item": whole}),
            ));
        }
        let kind = if self.incomplete.is_some() {
            "response.incomplete"
        } else {
            "response.completed"
        };
        events.push(frame(kind, json!({"response": self.to_json()})));
        // Every event carries its place in the stream.
        for (number, event) in events.iter_mut().enumerate() {
            if let Some((head, data)) = event.split_once("data: ")
                && let Ok(mut data) = serde_json::from_str::<Value>(data.trim())
            {
                data["sequence_number"] = json!(number);
                *event = format!("{head}data: {data}\n\n");
            }
        }
        events
    }

    /// The streamed form as an SSE [`Reply`].
    pub fn sse_reply(&self) -> Reply {
        Reply::sse(self.to_sse_events())
    }
}

fn frame(kind: &str, mut data: Value) -> String {
    data["type"] = json!(kind);
    format!("event: {kind}\ndata: {data}\n\n")
}
