//! OpenAI Chat Completions bodies for the fake provider: complete answers and their
//! streamed (server-sent events) form, with content or tool calls split into the fragments
//! a test chooses.
//!
//! Everything is deterministic (fixed `id`, `created`, tool call ids) so snapshots stay
//! stable.

use serde_json::{Value, json};

use super::{Reply, strings};

/// The path of OpenAI's Chat Completions endpoint, for
/// [`FakeProvider::push_for`](super::FakeProvider::push_for) and
/// [`FakeProvider::requests_for`](super::FakeProvider::requests_for).
pub const CHAT_COMPLETIONS_PATH: &str = "/v1/chat/completions";

/// The model name the builders use unless told otherwise.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

const DEFAULT_ID: &str = "chatcmpl-fake";
const CREATED: u64 = 1_700_000_000;

#[derive(Clone, Debug)]
enum Output {
    /// Assistant text, in the fragments it streams as.
    Content(Vec<String>),
    /// Tool calls, each with its arguments in the fragments they stream as.
    ToolCalls(Vec<ToolCall>),
}

#[derive(Clone, Debug)]
struct ToolCall {
    name: String,
    fragments: Vec<String>,
}

/// One OpenAI chat completion, in both wire shapes: the `chat.completion` object of a plain
/// answer ([`to_json`](Self::to_json), [`reply`](Self::reply)) and the
/// `chat.completion.chunk` events of a streamed one ([`to_sse_events`](Self::to_sse_events),
/// [`sse_reply`](Self::sse_reply)).
///
/// The output is either assistant content or tool calls, each given as the fragments it
/// streams in; the plain answer carries their concatenation. Defaults: model
/// [`DEFAULT_MODEL`], id `chatcmpl-fake`, finish reason `stop` (content) or `tool_calls`,
/// usage 10 prompt and 5 completion tokens (streamed as a final usage chunk, as with
/// `stream_options.include_usage`).
///
/// # Example
///
/// ```
/// use instructor_providers::testing::openai::ChatCompletion;
///
/// let completion = ChatCompletion::tool_call_fragments("extract", [r#"{"na"#, r#"me":"A"#, r#"da"}"#])
///     .model("gpt-4.1")
///     .usage(12, 7);
///
/// let body = completion.to_json();
/// assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
/// assert_eq!(
///     body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
///     r#"{"name":"Ada"}"#
/// );
///
/// let events = completion.to_sse_events();
/// // role + name, 3 argument fragments, finish reason, usage, [DONE]
/// assert_eq!(events.len(), 7);
/// assert!(events[2].starts_with("data: {") && events[2].ends_with("\n\n"));
/// assert_eq!(events[6], "data: [DONE]\n\n");
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ChatCompletion {
    id: String,
    model: String,
    output: Output,
    finish_reason: Option<String>,
    usage: Option<(u64, u64)>,
}

impl ChatCompletion {
    fn new(output: Output, finish_reason: &str) -> Self {
        Self {
            id: DEFAULT_ID.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            output,
            finish_reason: Some(finish_reason.to_owned()),
            usage: Some((10, 5)),
        }
    }

    /// An assistant answer with this text, streamed as a single fragment.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::openai::ChatCompletion;
    /// let body = ChatCompletion::content("Hello").to_json();
    /// assert_eq!(body["choices"][0]["message"]["content"], "Hello");
    /// assert_eq!(body["choices"][0]["finish_reason"], "stop");
    /// ```
    pub fn content(text: impl Into<String>) -> Self {
        Self::content_fragments([text.into()])
    }

    /// An assistant answer streamed in these fragments (one `delta.content` event each); the
    /// plain answer's content is their concatenation.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::openai::ChatCompletion;
    /// let completion = ChatCompletion::content_fragments(["{\"a\":", "1}"]);
    /// assert_eq!(completion.to_json()["choices"][0]["message"]["content"], "{\"a\":1}");
    /// let events = completion.to_sse_events();
    /// assert!(events[1].contains(r#""delta":{"content":"{\"a\":"}"#));
    /// ```
    pub fn content_fragments<I, S>(fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Output::Content(strings(fragments)), "stop")
    }

    /// One call of the function `name` with these JSON `arguments` (a string, as on the
    /// wire), streamed as a single fragment.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::openai::ChatCompletion;
    /// let body = ChatCompletion::tool_call("extract", r#"{"age":3}"#).to_json();
    /// let call = &body["choices"][0]["message"]["tool_calls"][0];
    /// assert_eq!(call["id"], "call_fake_0");
    /// assert_eq!(call["function"]["name"], "extract");
    /// ```
    pub fn tool_call(name: impl Into<String>, arguments: impl Into<String>) -> Self {
        Self::tool_call_fragments(name, [arguments.into()])
    }

    /// One call of the function `name` whose arguments stream in these fragments (one
    /// `delta.tool_calls[].function.arguments` event each); the plain answer's arguments
    /// are their concatenation.
    pub fn tool_call_fragments<I, S>(name: impl Into<String>, fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let call = ToolCall {
            name: name.into(),
            fragments: strings(fragments),
        };
        Self::new(Output::ToolCalls(vec![call]), "tool_calls")
    }

    /// Adds another (parallel) tool call, streamed after the previous ones with the next
    /// index. On a content completion, the content is replaced by this tool call and the
    /// finish reason becomes `tool_calls`.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::openai::ChatCompletion;
    /// let body = ChatCompletion::tool_call("a", "{}").and_tool_call_fragments("b", ["{", "}"]).to_json();
    /// assert_eq!(body["choices"][0]["message"]["tool_calls"][1]["id"], "call_fake_1");
    /// assert_eq!(body["choices"][0]["message"]["tool_calls"][1]["function"]["arguments"], "{}");
    /// ```
    pub fn and_tool_call_fragments<I, S>(mut self, name: impl Into<String>, fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let call = ToolCall {
            name: name.into(),
            fragments: strings(fragments),
        };
        match &mut self.output {
            Output::ToolCalls(calls) => calls.push(call),
            Output::Content(_) => {
                self.output = Output::ToolCalls(vec![call]);
                self.finish_reason = Some("tool_calls".to_owned());
            }
        }
        self
    }

    /// Adds another (parallel) tool call with these arguments as one fragment; see
    /// [`and_tool_call_fragments`](Self::and_tool_call_fragments).
    pub fn and_tool_call(self, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        self.and_tool_call_fragments(name, [arguments.into()])
    }

    /// Sets the `model` field.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Sets the completion `id`.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the finish reason (`stop`, `length`, `tool_calls`, `content_filter`, ...).
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }

    /// No finish reason: `null` in the plain answer, and no finish event in the stream
    /// (which still ends with the usage chunk, if any, and `[DONE]`).
    pub fn no_finish_reason(mut self) -> Self {
        self.finish_reason = None;
        self
    }

    /// Sets the token usage (`total_tokens` is their sum).
    pub fn usage(mut self, prompt_tokens: u64, completion_tokens: u64) -> Self {
        self.usage = Some((prompt_tokens, completion_tokens));
        self
    }

    /// No usage: no `usage` field in the plain answer and no usage chunk in the stream.
    pub fn no_usage(mut self) -> Self {
        self.usage = None;
        self
    }

    fn usage_json(&self) -> Value {
        match self.usage {
            Some((prompt, completion)) => json!({
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }),
            None => Value::Null,
        }
    }

    fn tool_call_id(index: usize) -> String {
        format!("call_fake_{index}")
    }

    /// The plain (non-streamed) `chat.completion` body.
    pub fn to_json(&self) -> Value {
        let message = match &self.output {
            Output::Content(fragments) => json!({
                "role": "assistant",
                "content": fragments.concat(),
                "refusal": null,
            }),
            Output::ToolCalls(calls) => {
                let calls: Vec<Value> = calls
                    .iter()
                    .enumerate()
                    .map(|(index, call)| {
                        json!({
                            "id": Self::tool_call_id(index),
                            "type": "function",
                            "function": {"name": call.name, "arguments": call.fragments.concat()},
                        })
                    })
                    .collect();
                json!({
                    "role": "assistant",
                    "content": null,
                    "tool_calls": calls,
                    "refusal": null,
                })
            }
        };
        let mut body = json!({
            "id": self.id,
            "object": "chat.completion",
            "created": CREATED,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": message,
                "logprobs": null,
                "finish_reason": self.finish_reason,
            }],
        });
        if self.usage.is_some() {
            body["usage"] = self.usage_json();
        }
        body
    }

    /// The plain answer as a `200` JSON [`Reply`].
    pub fn reply(&self) -> Reply {
        Reply::json(200, self.to_json())
    }

    fn chunk(&self, choices: Value) -> Value {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "choices": choices,
        });
        if self.usage.is_some() {
            // With `stream_options.include_usage`, every chunk but the last has `usage: null`.
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    fn delta(&self, delta: Value) -> Value {
        self.chunk(json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}]))
    }

    /// The streamed form, one `chat.completion.chunk` JSON per event, each already framed
    /// as `data: {...}\n\n`:
    ///
    /// 1. the assistant role (with `content: ""`, or with the first tool call's id and
    ///    name and empty arguments);
    /// 2. one event per fragment (for tool calls: each call's fragments in turn, and an
    ///    id + name event opening every call after the first);
    /// 3. an empty delta with the finish reason (unless
    ///    [`no_finish_reason`](Self::no_finish_reason));
    /// 4. the usage chunk with `choices: []` (unless [`no_usage`](Self::no_usage));
    /// 5. `data: [DONE]\n\n`.
    ///
    /// Hand the result to [`Reply::sse`], possibly edited or re-cut with
    /// [`Reply::cut_at`].
    pub fn to_sse_events(&self) -> Vec<String> {
        let mut chunks = Vec::new();
        match &self.output {
            Output::Content(fragments) => {
                chunks
                    .push(self.delta(json!({"role": "assistant", "content": "", "refusal": null})));
                for fragment in fragments {
                    chunks.push(self.delta(json!({"content": fragment})));
                }
            }
            Output::ToolCalls(calls) => {
                for (index, call) in calls.iter().enumerate() {
                    let opening = json!({"tool_calls": [{
                        "index": index,
                        "id": Self::tool_call_id(index),
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }]});
                    let opening = if index == 0 {
                        let mut delta =
                            json!({"role": "assistant", "content": null, "refusal": null});
                        delta["tool_calls"] = opening["tool_calls"].clone();
                        delta
                    } else {
                        opening
                    };
                    chunks.push(self.delta(opening));
                    for fragment in &call.fragments {
                        chunks.push(self.delta(json!({"tool_calls": [{
                            "index": index,
                            "function": {"arguments": fragment},
                        }]})));
                    }
                }
            }
        }
        if let Some(reason) = &self.finish_reason {
            chunks.push(self.chunk(
                json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": reason}]),
            ));
        }
        if self.usage.is_some() {
            let mut usage = self.chunk(json!([]));
            usage["usage"] = self.usage_json();
            chunks.push(usage);
        }
        let mut events: Vec<String> = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
        events.push("data: [DONE]\n\n".to_owned());
        events
    }

    /// The streamed form as an SSE [`Reply`], one event per chunk; see
    /// [`to_sse_events`](Self::to_sse_events).
    pub fn sse_reply(&self) -> Reply {
        Reply::sse(self.to_sse_events())
    }
}

/// An OpenAI error body: `{"error": {"message", "type", "param": null, "code"}}`.
///
/// # Example
///
/// ```
/// use instructor_providers::testing::{Reply, openai};
///
/// let reply = Reply::status(429)
///     .header("retry-after", "1")
///     .json_body(openai::error_body("Rate limit reached", "requests", Some("rate_limit_exceeded")));
/// assert_eq!(reply.status_code(), 429);
/// ```
pub fn error_body(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}
