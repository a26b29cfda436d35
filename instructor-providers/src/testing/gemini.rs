//! Gemini (`generateContent`, `streamGenerateContent?alt=sse`) bodies for the fake
//! provider, in the shapes of Google's recorded traffic.
//!
//! A streamed Gemini answer is a sequence of whole `GenerateContentResponse` objects,
//! one per `data:` event: text arrives as text parts, one fragment per event; a function
//! call arrives whole (`functionCall` with its `args` object) in one event on the Gemini
//! API, or, on Vertex AI with streamed function-call arguments, as `partialArgs` pieces
//! addressed by JSON path and closed by an empty `functionCall` (see
//! [`GenerateContent::vertex_partial_args`]). The finish reason and usage come with the
//! last event. Everything is deterministic so snapshots stay stable.

use serde_json::{Value, json};

use super::{Reply, strings};

/// The model name the builders use unless told otherwise.
pub const DEFAULT_MODEL: &str = "gemini-2.5-flash";

const DEFAULT_RESPONSE_ID: &str = "resp-fake";

/// The path of `generateContent` for `model` on the Gemini API (`v1beta`).
///
/// ```
/// assert_eq!(
///     instructor_providers::testing::gemini::generate_content_path("gemini-2.5-flash"),
///     "/v1beta/models/gemini-2.5-flash:generateContent"
/// );
/// ```
pub fn generate_content_path(model: &str) -> String {
    format!("/v1beta/models/{model}:generateContent")
}

/// The path of `streamGenerateContent` for `model` (the client adds `?alt=sse`, which
/// the fake's routing ignores).
pub fn stream_generate_content_path(model: &str) -> String {
    format!("/v1beta/models/{model}:streamGenerateContent")
}

#[derive(Clone, Debug)]
enum Part {
    /// Answer text, in the fragments it streams as.
    Text(Vec<String>),
    /// A thought summary (`thought: true`), streamed as one part.
    Thought(String),
    /// A function call with its arguments' JSON text.
    FunctionCall { name: String, args: String },
}

/// One Gemini answer (candidate 0), in both wire shapes: the `GenerateContentResponse`
/// of a plain answer ([`to_json`](Self::to_json), [`reply`](Self::reply)) and the
/// events of a streamed one ([`to_sse_events`](Self::to_sse_events),
/// [`sse_reply`](Self::sse_reply)).
///
/// Defaults: model version [`DEFAULT_MODEL`], finish reason `STOP`, usage 10 prompt and
/// 5 candidate tokens.
///
/// # Example
///
/// ```
/// use instructor_providers::testing::gemini::GenerateContent;
///
/// let answer = GenerateContent::text_fragments([r#"{"name":"#, r#""Ada"}"#]).usage(12, 7);
/// let body = answer.to_json();
/// assert_eq!(body["candidates"][0]["content"]["parts"][0]["text"], r#"{"name":"Ada"}"#);
/// assert_eq!(body["usageMetadata"]["totalTokenCount"], 19);
///
/// let events = answer.to_sse_events();
/// // one event per fragment, then the finish reason with the usage
/// assert_eq!(events.len(), 3);
/// assert!(events[0].starts_with("data: {") && events[0].ends_with("}\n\n"));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct GenerateContent {
    model: String,
    response_id: String,
    parts: Vec<Part>,
    finish_reason: Option<String>,
    usage: Option<(u64, u64, u64)>,
    blocked: Option<String>,
    partial_args: bool,
}

impl GenerateContent {
    fn new(part: Part) -> Self {
        Self {
            model: DEFAULT_MODEL.to_owned(),
            response_id: DEFAULT_RESPONSE_ID.to_owned(),
            parts: vec![part],
            finish_reason: Some("STOP".to_owned()),
            usage: Some((10, 5, 0)),
            blocked: None,
            partial_args: false,
        }
    }

    /// An answer with this text, streamed as one part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::text_fragments([text.into()])
    }

    /// An answer whose text streams in these fragments, one event each.
    pub fn text_fragments<I, S>(fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Part::Text(strings(fragments)))
    }

    /// An answer calling function `name` with `args` (JSON text of an object).
    pub fn function_call(name: impl Into<String>, args: impl Into<String>) -> Self {
        Self::new(Part::FunctionCall {
            name: name.into(),
            args: args.into(),
        })
    }

    /// Another function call after the parts so far (a parallel call).
    pub fn and_function_call(mut self, name: impl Into<String>, args: impl Into<String>) -> Self {
        self.parts.push(Part::FunctionCall {
            name: name.into(),
            args: args.into(),
        });
        self
    }

    /// A thought summary (`thought: true`) before everything else.
    pub fn thought_first(mut self, text: impl Into<String>) -> Self {
        self.parts.insert(0, Part::Thought(text.into()));
        self
    }

    /// Stream function calls as Vertex AI does with streamed arguments: a
    /// `functionCall` with the name and `willContinue`, then one `partialArgs` event per
    /// top-level member of the arguments, addressed by JSON path (`$.name`) and typed
    /// (`stringValue`, `numberValue`, `boolValue`, `nullValue`; objects and arrays as
    /// `structValue` here), then an empty `functionCall` that closes the call.
    pub fn vertex_partial_args(mut self) -> Self {
        self.partial_args = true;
        self
    }

    /// The model version named in the answer.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The finish reason (`STOP`, `MAX_TOKENS`, `SAFETY`, `RECITATION`,
    /// `MALFORMED_FUNCTION_CALL`...).
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }

    /// No finish reason (a stream cut short).
    pub fn no_finish_reason(mut self) -> Self {
        self.finish_reason = None;
        self
    }

    /// Prompt and candidate tokens.
    pub fn usage(mut self, prompt_tokens: u64, candidate_tokens: u64) -> Self {
        let thoughts = self.usage.map_or(0, |(_, _, thoughts)| thoughts);
        self.usage = Some((prompt_tokens, candidate_tokens, thoughts));
        self
    }

    /// Thinking tokens (`thoughtsTokenCount`, counted in the total).
    pub fn thoughts_tokens(mut self, tokens: u64) -> Self {
        let (prompt, candidates, _) = self.usage.unwrap_or((0, 0, 0));
        self.usage = Some((prompt, candidates, tokens));
        self
    }

    /// No `usageMetadata`.
    pub fn no_usage(mut self) -> Self {
        self.usage = None;
        self
    }

    /// A prompt blocked before any answer: no candidates, `promptFeedback.blockReason`
    /// (for example `PROHIBITED_CONTENT` or `SAFETY`).
    pub fn prompt_blocked(reason: impl Into<String>) -> Self {
        Self {
            parts: Vec::new(),
            blocked: Some(reason.into()),
            finish_reason: None,
            ..Self::new(Part::Text(Vec::new()))
        }
    }

    fn usage_json(&self) -> Option<Value> {
        self.usage.map(|(prompt, candidates, thoughts)| {
            let mut usage = json!({
                "promptTokenCount": prompt,
                "candidatesTokenCount": candidates,
                "totalTokenCount": prompt + candidates + thoughts,
            });
            if thoughts > 0 {
                usage["thoughtsTokenCount"] = json!(thoughts);
            }
            usage
        })
    }

    /// A function call's `args`: the JSON text, parsed; text that is not JSON (a test of
    /// a broken server) is sent as a JSON string.
    fn args_value(args: &str) -> Value {
        serde_json::from_str(args).unwrap_or_else(|_| Value::String(args.to_owned()))
    }

    fn part_json(part: &Part) -> Value {
        match part {
            Part::Text(fragments) => json!({"text": fragments.concat()}),
            Part::Thought(text) => json!({"text": text, "thought": true}),
            Part::FunctionCall { name, args } => json!({
                "functionCall": {"name": name, "args": Self::args_value(args)},
            }),
        }
    }

    fn envelope(&self, parts: Vec<Value>, last: bool) -> Value {
        let mut candidate = json!({
            "content": {"parts": parts, "role": "model"},
            "index": 0,
        });
        let mut body = json!({});
        if last {
            if let Some(reason) = &self.finish_reason {
                candidate["finishReason"] = json!(reason);
            }
            if let Some(usage) = self.usage_json() {
                body["usageMetadata"] = usage;
            }
        }
        body["candidates"] = json!([candidate]);
        body["modelVersion"] = json!(self.model);
        body["responseId"] = json!(self.response_id);
        body
    }

    fn blocked_json(&self, reason: &str) -> Value {
        let mut body = json!({"promptFeedback": {"blockReason": reason}});
        if let Some(usage) = self.usage_json() {
            body["usageMetadata"] = usage;
        }
        body["modelVersion"] = json!(self.model);
        body["responseId"] = json!(self.response_id);
        body
    }

    /// The plain (non-streamed) `GenerateContentResponse` body.
    pub fn to_json(&self) -> Value {
        if let Some(reason) = &self.blocked {
            return self.blocked_json(reason);
        }
        self.envelope(self.parts.iter().map(Self::part_json).collect(), true)
    }

    /// The plain answer as a `200` JSON [`Reply`].
    pub fn reply(&self) -> Reply {
        Reply::json(200, self.to_json())
    }

    /// The parts of one streamed event each, in order.
    fn streamed_parts(&self) -> Vec<Value> {
        let mut events = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(fragments) => {
                    events.extend(fragments.iter().map(|f| json!({"text": f})));
                }
                Part::FunctionCall { name, args } if self.partial_args => {
                    events.push(json!({"functionCall": {"name": name, "willContinue": true}}));
                    if let Value::Object(members) = Self::args_value(args) {
                        for (key, value) in members {
                            let path = format!("$.{key}");
                            let piece = match value {
                                Value::String(text) => {
                                    json!({"jsonPath": path, "stringValue": text})
                                }
                                Value::Number(number) => {
                                    json!({"jsonPath": path, "numberValue": number})
                                }
                                Value::Bool(flag) => json!({"jsonPath": path, "boolValue": flag}),
                                Value::Null => json!({"jsonPath": path, "nullValue": null}),
                                other => json!({"jsonPath": path, "structValue": other}),
                            };
                            events.push(json!({"functionCall": {
                                "partialArgs": [piece],
                                "willContinue": true,
                            }}));
                        }
                    }
                    events.push(json!({"functionCall": {}}));
                }
                other => events.push(Self::part_json(other)),
            }
        }
        events
    }

    /// The streamed form (`streamGenerateContent?alt=sse`), each event framed as
    /// `data: <json>\n\n`: one event per text fragment
    /// or part, and the finish reason with the usage on a last event with an empty text
    /// part (as recorded). A blocked prompt is one event with the `promptFeedback`.
    pub fn to_sse_events(&self) -> Vec<String> {
        if let Some(reason) = &self.blocked {
            return vec![frame(&self.blocked_json(reason))];
        }
        let mut events: Vec<String> = self
            .streamed_parts()
            .into_iter()
            .map(|part| frame(&self.envelope(vec![part], false)))
            .collect();
        if self.finish_reason.is_some() || self.usage.is_some() {
            events.push(frame(&self.envelope(vec![json!({"text": ""})], true)));
        }
        events
    }

    /// The streamed form as an SSE [`Reply`]; see [`to_sse_events`](Self::to_sse_events).
    pub fn sse_reply(&self) -> Reply {
        Reply::sse(self.to_sse_events())
    }
}

fn frame(data: &Value) -> String {
    format!("data: {data}\n\n")
}

/// A Google API error body: `{"error": {"code", "message", "status"}}` (for example
/// `400`, `INVALID_ARGUMENT`, or `429`, `RESOURCE_EXHAUSTED`).
///
/// ```
/// use instructor_providers::testing::{Reply, gemini};
///
/// let reply = Reply::status(429)
///     .json_body(gemini::error_body(429, "Quota exceeded", "RESOURCE_EXHAUSTED"));
/// assert_eq!(reply.status_code(), 429);
/// ```
pub fn error_body(code: u16, message: &str, status: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(events: &[String]) -> Vec<Value> {
        events
            .iter()
            .map(|e| {
                let data = e
                    .strip_prefix("data: ")
                    .and_then(|d| d.strip_suffix("\n\n"))
                    .expect("framed event");
                serde_json::from_str(data).expect("JSON")
            })
            .collect()
    }

    #[test]
    fn streamed_text_and_calls_add_up_to_the_plain_answer() {
        let answer = GenerateContent::text_fragments(["I'll ", "call it."])
            .thought_first("Thinking about it")
            .and_function_call("extract", r#"{"name":"Ada","age":36}"#)
            .thoughts_tokens(40);
        let plain = answer.to_json();
        let events = parse(&answer.to_sse_events());
        let mut text = String::new();
        let mut calls = Vec::new();
        for event in &events {
            for part in event["candidates"][0]["content"]["parts"]
                .as_array()
                .expect("the builder's own output")
            {
                if part["thought"] == true {
                    continue;
                }
                if let Some(t) = part["text"].as_str() {
                    text.push_str(t);
                }
                if !part["functionCall"].is_null() {
                    calls.push(part["functionCall"].clone());
                }
            }
        }
        assert_eq!(plain["candidates"][0]["content"]["parts"][1]["text"], text);
        assert_eq!(
            vec![plain["candidates"][0]["content"]["parts"][2]["functionCall"].clone()],
            calls
        );
        let last = events.last().expect("the builder's own output");
        assert_eq!(last["candidates"][0]["finishReason"], "STOP");
        assert_eq!(last["usageMetadata"]["totalTokenCount"], 55);
        assert!(
            events[..events.len() - 1]
                .iter()
                .all(|e| e["usageMetadata"].is_null())
        );
    }

    #[test]
    fn vertex_partial_args_open_fill_and_close_each_call() {
        let events = parse(
            &GenerateContent::function_call("getWeather", r#"{"location":"Boston","days":3}"#)
                .vertex_partial_args()
                .to_sse_events(),
        );
        let calls: Vec<&Value> = events
            .iter()
            .map(|e| &e["candidates"][0]["content"]["parts"][0]["functionCall"])
            .filter(|c| !c.is_null())
            .collect();
        assert_eq!(calls[0]["name"], "getWeather");
        assert_eq!(calls[1]["partialArgs"][0]["jsonPath"], "$.location");
        assert_eq!(calls[1]["partialArgs"][0]["stringValue"], "Boston");
        assert_eq!(calls[2]["partialArgs"][0]["numberValue"], 3);
        assert_eq!(*calls[3], json!({}));
    }

    #[test]
    fn a_blocked_prompt_has_no_candidates() {
        let answer = GenerateContent::prompt_blocked("PROHIBITED_CONTENT");
        assert!(answer.to_json()["candidates"].is_null());
        let events = parse(&answer.to_sse_events());
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0]["promptFeedback"]["blockReason"],
            "PROHIBITED_CONTENT"
        );
    }
}
