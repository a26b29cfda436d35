//! Cohere v2 Chat bodies for the fake provider: whole answers (`ChatResponseV2`) and
//! their streamed form (`message-start`, `content-start` / `content-delta` /
//! `content-end`, `tool-plan-delta`, `tool-call-start` / `tool-call-delta` /
//! `tool-call-end`, `message-end` with the finish reason and usage), shaped after
//! Cohere's published description (`testdata/specs/cohere-chat-v2.openapi.json`).
//! Each streamed event is framed as `event: <type>\ndata: <json>\n\n`.

use serde_json::{Value, json};

use super::{Reply, strings};

/// The path of Cohere's chat endpoint.
pub const CHAT_PATH: &str = "/v2/chat";

const DEFAULT_ID: &str = "cohere-fake";

#[derive(Clone, Debug)]
enum Block {
    Text(Vec<String>),
    ToolCall {
        name: String,
        fragments: Vec<String>,
    },
}

/// One Cohere answer, whole ([`to_json`](Self::to_json)) or streamed
/// ([`to_sse_events`](Self::to_sse_events)). Defaults: finish reason `COMPLETE` (or
/// `TOOL_CALL` with calls), usage 10 input and 5 output tokens.
///
/// ```
/// use instructor_providers::testing::cohere::Chat;
///
/// let answer = Chat::tool_call("User", r#"{"name": "Ada"}"#);
/// let body = answer.to_json();
/// assert_eq!(body["message"]["tool_calls"][0]["function"]["name"], "User");
/// assert_eq!(body["finish_reason"], "TOOL_CALL");
/// assert!(answer.to_sse_events()[0].starts_with("event: message-start\n"));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Chat {
    blocks: Vec<Block>,
    tool_plan: Option<String>,
    finish_reason: Option<String>,
    usage: Option<(u64, u64)>,
}

impl Chat {
    fn new(block: Block) -> Self {
        Chat {
            blocks: vec![block],
            tool_plan: None,
            finish_reason: None,
            usage: Some((10, 5)),
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
        Self::new(Block::Text(strings(fragments)))
    }

    /// An answer calling `name` with `arguments` (JSON text).
    pub fn tool_call(name: impl Into<String>, arguments: impl Into<String>) -> Self {
        Self::tool_call_fragments(name, [arguments.into()])
    }

    /// An answer calling `name`, its arguments streamed in these fragments.
    pub fn tool_call_fragments<I, S>(name: impl Into<String>, fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Block::ToolCall {
            name: name.into(),
            fragments: strings(fragments),
        })
        .tool_plan("I will call the tool.")
    }

    /// Another call after the ones so far.
    pub fn and_tool_call(mut self, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        self.blocks.push(Block::ToolCall {
            name: name.into(),
            fragments: vec![arguments.into()],
        });
        self
    }

    /// The tool plan (Cohere's reasoning before calls).
    pub fn tool_plan(mut self, plan: impl Into<String>) -> Self {
        self.tool_plan = Some(plan.into());
        self
    }

    /// The finish reason (`COMPLETE`, `MAX_TOKENS`, `TOOL_CALL`, `ERROR`, ...).
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }

    /// Input and output tokens.
    pub fn usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        self.usage = Some((input_tokens, output_tokens));
        self
    }

    fn reason(&self) -> String {
        self.finish_reason.clone().unwrap_or_else(|| {
            let calls = self
                .blocks
                .iter()
                .any(|block| matches!(block, Block::ToolCall { .. }));
            if calls { "TOOL_CALL" } else { "COMPLETE" }.to_owned()
        })
    }

    fn usage_json(&self) -> Option<Value> {
        self.usage.map(|(input, output)| {
            json!({
                "billed_units": {"input_tokens": input, "output_tokens": output},
                "tokens": {"input_tokens": input, "output_tokens": output},
            })
        })
    }

    fn tool_calls(&self) -> Vec<(usize, &str, String)> {
        self.blocks
            .iter()
            .filter_map(|block| match block {
                Block::ToolCall { name, fragments } => Some((name.as_str(), fragments.concat())),
                Block::Text(_) => None,
            })
            .enumerate()
            .map(|(index, (name, arguments))| (index, name, arguments))
            .collect()
    }

    /// The whole `ChatResponseV2` body.
    pub fn to_json(&self) -> Value {
        let text: String = self
            .blocks
            .iter()
            .filter_map(|block| match block {
                Block::Text(fragments) => Some(fragments.concat()),
                Block::ToolCall { .. } => None,
            })
            .collect();
        let mut message = json!({"role": "assistant"});
        if !text.is_empty() {
            message["content"] = json!([{"type": "text", "text": text}]);
        }
        let calls: Vec<Value> = self
            .tool_calls()
            .into_iter()
            .map(|(index, name, arguments)| {
                json!({
                    "id": format!("call_fake_{index}"),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                })
            })
            .collect();
        if !calls.is_empty() {
            message["tool_calls"] = json!(calls);
        }
        if let Some(plan) = &self.tool_plan {
            message["tool_plan"] = json!(plan);
        }
        let mut body =
            json!({"id": DEFAULT_ID, "finish_reason": self.reason(), "message": message});
        if let Some(usage) = self.usage_json() {
            body["usage"] = usage;
        }
        body
    }

    /// The whole answer as a `200` JSON [`Reply`].
    pub fn reply(&self) -> Reply {
        Reply::json(200, self.to_json())
    }

    /// The streamed events.
    pub fn to_sse_events(&self) -> Vec<String> {
        let mut events = vec![frame(
            "message-start",
            &json!({"id": DEFAULT_ID, "delta": {"message": {"role": "assistant"}}}),
        )];
        if let Some(plan) = &self.tool_plan {
            events.push(frame(
                "tool-plan-delta",
                &json!({"delta": {"message": {"tool_plan": plan}}}),
            ));
        }
        let mut content_index = 0;
        let mut call_index = 0;
        for block in &self.blocks {
            match block {
                Block::Text(fragments) => {
                    events.push(frame(
                        "content-start",
                        &json!({"index": content_index, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
                    ));
                    for fragment in fragments {
                        events.push(frame(
                            "content-delta",
                            &json!({"index": content_index, "delta": {"message": {"content": {"text": fragment}}}}),
                        ));
                    }
                    events.push(frame("content-end", &json!({"index": content_index})));
                    content_index += 1;
                }
                Block::ToolCall { name, fragments } => {
                    events.push(frame(
                        "tool-call-start",
                        &json!({"index": call_index, "delta": {"message": {"tool_calls": {
                            "id": format!("call_fake_{call_index}"),
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }}}}),
                    ));
                    for fragment in fragments {
                        events.push(frame(
                            "tool-call-delta",
                            &json!({"index": call_index, "delta": {"message": {"tool_calls": {"function": {"arguments": fragment}}}}}),
                        ));
                    }
                    events.push(frame("tool-call-end", &json!({"index": call_index})));
                    call_index += 1;
                }
            }
        }
        let mut end = json!({"delta": {"finish_reason": self.reason()}});
        if let Some(usage) = self.usage_json() {
            end["delta"]["usage"] = usage;
        }
        events.push(frame("message-end", &end));
        events
    }

    /// The streamed form as an SSE [`Reply`].
    pub fn sse_reply(&self) -> Reply {
        Reply::sse(self.to_sse_events())
    }
}

fn frame(kind: &str, data: &Value) -> String {
    let mut data = data.clone();
    data["type"] = json!(kind);
    format!("event: {kind}\ndata: {data}\n\n")
}

/// A Cohere error body (`{"message": ...}`).
pub fn error_body(message: &str) -> Value {
    json!({"message": message})
}
