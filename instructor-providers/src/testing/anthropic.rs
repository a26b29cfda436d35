//! Anthropic Messages bodies for the fake provider: complete answers and their streamed
//! (server-sent events) form, with text, thinking and `tool_use` blocks split into the
//! fragments a test chooses.
//!
//! The shapes follow Anthropic's recorded traffic (`message_start`, `content_block_start`,
//! `ping`, `content_block_delta` with `text_delta` / `input_json_delta` /
//! `thinking_delta` / `signature_delta`, `content_block_stop`, `message_delta` with the
//! stop reason and output tokens, `message_stop`; each event framed as
//! `event: <type>\ndata: <json>\n\n`). Everything is deterministic (fixed message and
//! tool-use ids) so snapshots stay stable.

use serde_json::{Value, json};

use super::{Reply, strings};

/// The path of Anthropic's Messages endpoint, for
/// [`FakeProvider::push_for`](super::FakeProvider::push_for) and
/// [`FakeProvider::requests_for`](super::FakeProvider::requests_for).
pub const MESSAGES_PATH: &str = "/v1/messages";

/// The model name the builders use unless told otherwise.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";

const DEFAULT_ID: &str = "msg_fake";

#[derive(Clone, Debug)]
enum Block {
    /// Text, in the fragments it streams as.
    Text(Vec<String>),
    /// Extended thinking, in fragments, with the signature that closes it.
    Thinking {
        fragments: Vec<String>,
        signature: String,
    },
    /// A tool call, with its input's JSON text in the fragments it streams as.
    ToolUse {
        name: String,
        fragments: Vec<String>,
    },
}

/// Token counts of a message, as Anthropic reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Usage {
    input: u64,
    output: u64,
    cache_creation: u64,
    cache_read: u64,
}

/// One Anthropic message, in both wire shapes: the `message` object of a plain answer
/// ([`to_json`](Self::to_json), [`reply`](Self::reply)) and the events of a streamed
/// one ([`to_sse_events`](Self::to_sse_events), [`sse_reply`](Self::sse_reply)).
///
/// The content is a list of blocks (text, thinking, `tool_use`), each given as the
/// fragments it streams in; the plain answer carries their concatenation (a
/// `tool_use` block's `input` is the fragments' JSON, parsed). Defaults: model
/// [`DEFAULT_MODEL`], id `msg_fake`, stop reason `end_turn` (text) or `tool_use` (when
/// any block is a tool call), usage 10 input and 5 output tokens, no cache tokens.
///
/// # Example
///
/// ```
/// use instructor_providers::testing::anthropic::Message;
///
/// let message = Message::tool_use_fragments("extract", [r#"{"na"#, r#"me":"A"#, r#"da"}"#])
///     .usage(12, 7);
///
/// let body = message.to_json();
/// assert_eq!(body["stop_reason"], "tool_use");
/// assert_eq!(body["content"][0]["input"]["name"], "Ada");
///
/// let events = message.to_sse_events();
/// // message_start, content_block_start, ping, 4 input_json_delta (an empty one first,
/// // as the API sends), content_block_stop, message_delta, message_stop
/// assert_eq!(events.len(), 10);
/// assert!(events[0].starts_with("event: message_start\ndata: {"));
/// assert_eq!(events[9], "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Message {
    id: String,
    model: String,
    blocks: Vec<Block>,
    stop_reason: Option<String>,
    explicit_stop_reason: bool,
    usage: Option<Usage>,
}

impl Message {
    fn new(block: Block) -> Self {
        let mut message = Self {
            id: DEFAULT_ID.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            blocks: Vec::new(),
            stop_reason: None,
            explicit_stop_reason: false,
            usage: Some(Usage {
                input: 10,
                output: 5,
                cache_creation: 0,
                cache_read: 0,
            }),
        };
        message.push(block);
        message
    }

    fn push(&mut self, block: Block) {
        self.blocks.push(block);
        if !self.explicit_stop_reason {
            let tool = self
                .blocks
                .iter()
                .any(|b| matches!(b, Block::ToolUse { .. }));
            self.stop_reason = Some(if tool { "tool_use" } else { "end_turn" }.to_owned());
        }
    }

    /// An answer with one text block, streamed as a single fragment.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::anthropic::Message;
    /// let body = Message::text("Hello").to_json();
    /// assert_eq!(body["content"][0]["text"], "Hello");
    /// assert_eq!(body["stop_reason"], "end_turn");
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        Self::text_fragments([text.into()])
    }

    /// An answer with one text block streamed in these fragments (one `text_delta`
    /// each).
    pub fn text_fragments<I, S>(fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Block::Text(strings(fragments)))
    }

    /// An answer calling tool `name` with `input` (JSON text), streamed as one
    /// `input_json_delta`.
    pub fn tool_use(name: impl Into<String>, input: impl Into<String>) -> Self {
        Self::tool_use_fragments(name, [input.into()])
    }

    /// An answer calling tool `name`, its input's JSON text streamed in these fragments.
    pub fn tool_use_fragments<I, S>(name: impl Into<String>, fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Block::ToolUse {
            name: name.into(),
            fragments: strings(fragments),
        })
    }

    /// Another text block after the ones so far.
    pub fn and_text(mut self, text: impl Into<String>) -> Self {
        self.push(Block::Text(vec![text.into()]));
        self
    }

    /// Another `tool_use` block after the ones so far (a parallel tool call).
    pub fn and_tool_use(self, name: impl Into<String>, input: impl Into<String>) -> Self {
        self.and_tool_use_fragments(name, [input.into()])
    }

    /// Another `tool_use` block, its input streamed in these fragments.
    pub fn and_tool_use_fragments<I, S>(mut self, name: impl Into<String>, fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.push(Block::ToolUse {
            name: name.into(),
            fragments: strings(fragments),
        });
        self
    }

    /// A thinking block before everything else (extended thinking), streamed in these
    /// fragments and closed by `signature` (one `signature_delta`).
    pub fn thinking_first<I, S>(mut self, fragments: I, signature: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.blocks.insert(
            0,
            Block::Thinking {
                fragments: strings(fragments),
                signature: signature.into(),
            },
        );
        self
    }

    /// The model named in the answer.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The message id (`msg_...`).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The stop reason (`end_turn`, `tool_use`, `max_tokens`, `refusal`,
    /// `stop_sequence`, `pause_turn`...).
    pub fn stop_reason(mut self, reason: impl Into<String>) -> Self {
        self.stop_reason = Some(reason.into());
        self.explicit_stop_reason = true;
        self
    }

    /// No stop reason: `null` in the plain answer, and the stream ends without its
    /// `message_delta` and `message_stop` (a stream cut short).
    pub fn no_stop_reason(mut self) -> Self {
        self.stop_reason = None;
        self.explicit_stop_reason = true;
        self
    }

    /// Input and output tokens.
    pub fn usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        let usage = self.usage.get_or_insert_with(Usage::default);
        usage.input = input_tokens;
        usage.output = output_tokens;
        self
    }

    /// Prompt-cache tokens: written to the cache (`cache_creation_input_tokens`) and
    /// read from it (`cache_read_input_tokens`).
    pub fn cache_usage(mut self, creation_tokens: u64, read_tokens: u64) -> Self {
        let usage = self.usage.get_or_insert_with(Usage::default);
        usage.cache_creation = creation_tokens;
        usage.cache_read = read_tokens;
        self
    }

    /// No `usage` object at all (a server that leaves it out).
    pub fn no_usage(mut self) -> Self {
        self.usage = None;
        self
    }

    fn tool_use_id(index: usize) -> String {
        format!("toolu_fake_{index}")
    }

    fn usage_json(&self, output: u64) -> Value {
        match self.usage {
            Some(usage) => json!({
                "input_tokens": usage.input,
                "cache_creation_input_tokens": usage.cache_creation,
                "cache_read_input_tokens": usage.cache_read,
                "output_tokens": output,
                "service_tier": "standard",
            }),
            None => Value::Null,
        }
    }

    /// A `tool_use` block's `input` in the plain answer: the fragments' JSON, parsed; a
    /// text that is not JSON (a test of a broken server) is sent as a JSON string.
    fn input_value(fragments: &[String]) -> Value {
        let text = fragments.concat();
        if text.trim().is_empty() {
            return json!({});
        }
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    fn block_json(index: usize, block: &Block) -> Value {
        match block {
            Block::Text(fragments) => json!({"type": "text", "text": fragments.concat()}),
            Block::Thinking {
                fragments,
                signature,
            } => json!({
                "type": "thinking",
                "thinking": fragments.concat(),
                "signature": signature,
            }),
            Block::ToolUse { name, fragments } => json!({
                "type": "tool_use",
                "id": Self::tool_use_id(index),
                "name": name,
                "input": Self::input_value(fragments),
            }),
        }
    }

    /// The plain (non-streamed) `message` body.
    pub fn to_json(&self) -> Value {
        let mut tools = 0;
        let content: Vec<Value> = self
            .blocks
            .iter()
            .map(|block| {
                let json = Self::block_json(tools, block);
                if matches!(block, Block::ToolUse { .. }) {
                    tools += 1;
                }
                json
            })
            .collect();
        let mut body = json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": self.stop_reason,
            "stop_sequence": null,
        });
        if let Some(usage) = self.usage {
            body["usage"] = self.usage_json(usage.output);
        }
        body
    }

    /// The plain answer as a `200` JSON [`Reply`].
    pub fn reply(&self) -> Reply {
        Reply::json(200, self.to_json())
    }

    /// The streamed form, each event already framed as `event: <type>\ndata: <json>\n\n`:
    ///
    /// 1. `message_start` (the message with empty content, the input tokens and one
    ///    output token);
    /// 2. per block: `content_block_start`, its deltas (`text_delta`, `thinking_delta`
    ///    then one `signature_delta`, or `input_json_delta` after an empty first one,
    ///    as the API sends), `content_block_stop`; a `ping` after the first block's
    ///    start;
    /// 3. `message_delta` with the stop reason and the output tokens, and
    ///    `message_stop` (both left out after [`no_stop_reason`](Self::no_stop_reason)).
    ///
    /// Hand the result to [`Reply::sse`], possibly edited or re-cut with
    /// [`Reply::cut_at`].
    pub fn to_sse_events(&self) -> Vec<String> {
        let mut events = Vec::new();
        let mut start = json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
        });
        if self.usage.is_some() {
            start["usage"] = self.usage_json(1);
        }
        events.push(event(
            "message_start",
            &json!({"type": "message_start", "message": start}),
        ));
        let mut tools = 0;
        for (index, block) in self.blocks.iter().enumerate() {
            let (opening, deltas): (Value, Vec<Value>) = match block {
                Block::Text(fragments) => (
                    json!({"type": "text", "text": ""}),
                    fragments
                        .iter()
                        .map(|f| json!({"type": "text_delta", "text": f}))
                        .collect(),
                ),
                Block::Thinking {
                    fragments,
                    signature,
                } => (
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    fragments
                        .iter()
                        .map(|f| json!({"type": "thinking_delta", "thinking": f}))
                        .chain([json!({"type": "signature_delta", "signature": signature})])
                        .collect(),
                ),
                Block::ToolUse { name, fragments } => {
                    let id = Self::tool_use_id(tools);
                    tools += 1;
                    (
                        json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                        std::iter::once("")
                            .chain(fragments.iter().map(String::as_str))
                            .map(|f| json!({"type": "input_json_delta", "partial_json": f}))
                            .collect(),
                    )
                }
            };
            events.push(event(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index, "content_block": opening}),
            ));
            if index == 0 {
                events.push(ping());
            }
            for delta in deltas {
                events.push(event(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index, "delta": delta}),
                ));
            }
            events.push(event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ));
        }
        if let Some(reason) = &self.stop_reason {
            let mut delta = json!({
                "type": "message_delta",
                "delta": {"stop_reason": reason, "stop_sequence": null},
            });
            if let Some(usage) = self.usage {
                delta["usage"] = json!({"output_tokens": usage.output});
            }
            events.push(event("message_delta", &delta));
            events.push(event("message_stop", &json!({"type": "message_stop"})));
        }
        events
    }

    /// The streamed form as an SSE [`Reply`], one event per chunk; see
    /// [`to_sse_events`](Self::to_sse_events).
    pub fn sse_reply(&self) -> Reply {
        Reply::sse(self.to_sse_events())
    }
}

/// One SSE event framed as Anthropic sends it.
fn event(kind: &str, data: &Value) -> String {
    format!("event: {kind}\ndata: {data}\n\n")
}

/// A `ping` event, as the API sends it (with a space after the colon).
fn ping() -> String {
    "event: ping\ndata: {\"type\": \"ping\"}\n\n".to_owned()
}

/// An Anthropic error body: `{"type": "error", "error": {"type", "message"},
/// "request_id"}`.
///
/// # Example
///
/// ```
/// use instructor_providers::testing::{Reply, anthropic};
///
/// let reply = Reply::status(529)
///     .json_body(anthropic::error_body("overloaded_error", "Overloaded"));
/// assert_eq!(reply.status_code(), 529);
/// ```
pub fn error_body(kind: &str, message: &str) -> Value {
    json!({
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_fake",
    })
}

/// A mid-stream `error` event (for example `overloaded_error`), framed as an SSE event,
/// to put in place of or after some of a message's events.
///
/// # Example
///
/// ```
/// use instructor_providers::testing::{Reply, anthropic::{self, Message}};
///
/// let mut events = Message::tool_use_fragments("extract", [r#"{"a":"#, "1}"]).to_sse_events();
/// events.truncate(4);
/// events.push(anthropic::error_event("overloaded_error", "Overloaded"));
/// let reply = Reply::sse(events);
/// # let _ = reply;
/// ```
pub fn error_event(kind: &str, message: &str) -> String {
    event(
        "error",
        &json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits SSE events back into (event name, data JSON).
    fn parse(events: &[String]) -> Vec<(String, Value)> {
        events
            .iter()
            .map(|e| {
                let (name, data) = e
                    .strip_prefix("event: ")
                    .and_then(|rest| rest.split_once("\ndata: "))
                    .expect("framed event");
                let data = data.strip_suffix("\n\n").expect("blank line");
                (
                    name.to_owned(),
                    serde_json::from_str(data).expect("JSON data"),
                )
            })
            .collect()
    }

    #[test]
    fn every_event_names_its_own_type() {
        let message = Message::text_fragments(["Hel", "lo"])
            .thinking_first(["hmm"], "sig")
            .and_tool_use_fragments("extract", ["{\"a\"", ":1}"]);
        for (name, data) in parse(&message.to_sse_events()) {
            assert_eq!(data["type"], name.as_str());
        }
    }

    #[test]
    fn streamed_and_plain_carry_the_same_content() {
        let message = Message::text("I'll call it.")
            .thinking_first(["Let me ", "think."], "sig-1")
            .and_tool_use_fragments("extract", ["{\"na", "me\":\"Ada\"}"])
            .and_tool_use("extract", "{\"name\":\"Bo\"}")
            .cache_usage(100, 20);
        let plain = message.to_json();
        let events = parse(&message.to_sse_events());

        // Rebuild the content from the stream, as a client does.
        let mut blocks: Vec<Value> = Vec::new();
        let mut inputs: Vec<String> = Vec::new();
        for (name, data) in &events {
            match name.as_str() {
                "content_block_start" => {
                    blocks.push(data["content_block"].clone());
                    inputs.push(String::new());
                }
                "content_block_delta" => {
                    let i = data["index"].as_u64().expect("the builder's own output") as usize;
                    let delta = &data["delta"];
                    match delta["type"].as_str().expect("the builder's own output") {
                        "text_delta" => {
                            let text = blocks[i]["text"]
                                .as_str()
                                .expect("the builder's own output")
                                .to_owned();
                            blocks[i]["text"] = json!(
                                text + delta["text"].as_str().expect("the builder's own output")
                            );
                        }
                        "thinking_delta" => {
                            let text = blocks[i]["thinking"]
                                .as_str()
                                .expect("the builder's own output")
                                .to_owned();
                            blocks[i]["thinking"] = json!(
                                text + delta["thinking"]
                                    .as_str()
                                    .expect("the builder's own output")
                            );
                        }
                        "signature_delta" => blocks[i]["signature"] = delta["signature"].clone(),
                        "input_json_delta" => {
                            inputs[i].push_str(
                                delta["partial_json"]
                                    .as_str()
                                    .expect("the builder's own output"),
                            );
                        }
                        other => panic!("unexpected delta {other}"),
                    }
                }
                _ => {}
            }
        }
        for (block, input) in blocks.iter_mut().zip(&inputs) {
            if block["type"] == "tool_use" {
                block["input"] = serde_json::from_str(input).expect("the builder's own output");
            }
        }
        assert_eq!(Value::Array(blocks), plain["content"]);
        assert_eq!(plain["content"][2]["id"], "toolu_fake_0");
        assert_eq!(plain["content"][3]["id"], "toolu_fake_1");
        assert_eq!(plain["stop_reason"], "tool_use");
        assert_eq!(plain["usage"]["cache_creation_input_tokens"], 100);
        assert_eq!(plain["usage"]["cache_read_input_tokens"], 20);

        let (_, delta) = events
            .iter()
            .find(|(n, _)| n == "message_delta")
            .expect("the builder's own output");
        assert_eq!(delta["delta"]["stop_reason"], "tool_use");
        assert_eq!(delta["usage"]["output_tokens"], 5);
        assert_eq!(
            events.last().expect("the builder's own output").0,
            "message_stop"
        );
    }

    #[test]
    fn a_cut_short_stream_has_no_stop() {
        let events = parse(
            &Message::tool_use_fragments("extract", ["{\"a\":"])
                .no_stop_reason()
                .to_sse_events(),
        );
        assert!(
            events
                .iter()
                .all(|(n, _)| n != "message_delta" && n != "message_stop")
        );
        assert_eq!(
            Message::tool_use("extract", "{\"a\":")
                .stop_reason("max_tokens")
                .to_json()["content"][0]["input"],
            "{\"a\":",
            "a tool input that is not JSON is sent as a string"
        );
    }

    #[test]
    fn the_error_event_matches_the_error_body() {
        let (name, data) = parse(&[error_event("overloaded_error", "Overloaded")])
            .pop()
            .expect("the builder's own output");
        assert_eq!(name, "error");
        assert_eq!(
            data["error"],
            error_body("overloaded_error", "Overloaded")["error"]
        );
    }
}
