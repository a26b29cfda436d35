//! AWS Bedrock's Converse wire for the fake provider: whole answers
//! (`POST /model/{modelId}/converse`, JSON), streamed answers
//! (`POST /model/{modelId}/converse-stream`, real binary event-stream frames with their
//! CRCs) and a SigV4 check of every request ([`require_signature`]), written here from
//! the published algorithm, independently of the client's signing crate, so that a test
//! proves the client's signatures are right.

use super::{FakeProvider, RecordedRequest, Reply, strings};
use crate::bedrock::AwsCredentials;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A Claude model on Bedrock, the default of the builders.
pub const DEFAULT_MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

/// The request id the fake's answers carry (`x-amzn-requestid`).
pub const REQUEST_ID: &str = "fake-bedrock-request-0001";

/// `model` as one path segment, encoded as the client encodes it.
fn segment(model: &str) -> String {
    let mut encoded = String::new();
    for byte in model.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The Converse path of `model`.
pub fn converse_path(model: &str) -> String {
    format!("/model/{}/converse", segment(model))
}

/// The ConverseStream path of `model`.
pub fn converse_stream_path(model: &str) -> String {
    format!("/model/{}/converse-stream", segment(model))
}

#[derive(Debug, Clone)]
enum Block {
    Text(Vec<String>),
    ToolUse {
        id: String,
        name: String,
        fragments: Vec<String>,
    },
    Reasoning {
        fragments: Vec<String>,
        signature: String,
    },
}

/// A Converse answer, to send whole ([`Converse::reply`]) or streamed
/// ([`Converse::stream_reply`]).
#[derive(Debug, Clone)]
pub struct Converse {
    blocks: Vec<Block>,
    stop_reason: Option<String>,
    usage: (u64, u64),
    cache: (u64, u64),
}

impl Converse {
    fn with(block: Block, stop_reason: &str) -> Self {
        Converse {
            blocks: vec![block],
            stop_reason: Some(stop_reason.to_owned()),
            usage: (12, 7),
            cache: (0, 0),
        }
    }

    /// A text answer (`stopReason: end_turn`).
    pub fn text(text: impl Into<String>) -> Self {
        Self::with(Block::Text(vec![text.into()]), "end_turn")
    }

    /// A text answer streamed in these fragments.
    pub fn text_fragments<I, S>(fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with(Block::Text(strings(fragments)), "end_turn")
    }

    /// One tool call (`stopReason: tool_use`).
    pub fn tool_use(name: impl Into<String>, input: impl Into<String>) -> Self {
        Self::tool_use_fragments(name, [input.into()])
    }

    /// One tool call whose input is streamed in these fragments.
    pub fn tool_use_fragments<I, S>(name: impl Into<String>, fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with(
            Block::ToolUse {
                id: "tooluse_0".to_owned(),
                name: name.into(),
                fragments: strings(fragments),
            },
            "tool_use",
        )
    }

    /// Another tool call after the blocks so far.
    pub fn and_tool_use(mut self, name: impl Into<String>, input: impl Into<String>) -> Self {
        let id = format!("tooluse_{}", self.blocks.len());
        self.blocks.push(Block::ToolUse {
            id,
            name: name.into(),
            fragments: vec![input.into()],
        });
        self
    }

    /// Text after the blocks so far.
    pub fn and_text(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Text(vec![text.into()]));
        self
    }

    /// A reasoning block before the others (Claude's extended thinking).
    pub fn thinking_first<I, S>(mut self, fragments: I, signature: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.blocks.insert(
            0,
            Block::Reasoning {
                fragments: strings(fragments),
                signature: signature.into(),
            },
        );
        self
    }

    /// The stop reason (`max_tokens`, `guardrail_intervened`, ...).
    pub fn stop_reason(mut self, reason: impl Into<String>) -> Self {
        self.stop_reason = Some(reason.into());
        self
    }

    /// No `messageStop` in the stream (a cut answer).
    pub fn no_stop(mut self) -> Self {
        self.stop_reason = None;
        self
    }

    /// The token counts.
    pub fn usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        self.usage = (input_tokens, output_tokens);
        self
    }

    /// Prompt-cache reads and writes.
    pub fn cache_usage(mut self, read_tokens: u64, write_tokens: u64) -> Self {
        self.cache = (read_tokens, write_tokens);
        self
    }

    fn usage_json(&self) -> Value {
        let (input, output) = self.usage;
        let mut usage = json!({
            "inputTokens": input,
            "outputTokens": output,
            "totalTokens": input + output,
        });
        if self.cache != (0, 0) {
            usage["cacheReadInputTokens"] = json!(self.cache.0);
            usage["cacheWriteInputTokens"] = json!(self.cache.1);
        }
        usage
    }

    /// The whole answer's body.
    pub fn to_json(&self) -> Value {
        let content: Vec<Value> = self
            .blocks
            .iter()
            .map(|block| match block {
                Block::Text(fragments) => json!({"text": fragments.concat()}),
                Block::ToolUse {
                    id,
                    name,
                    fragments,
                } => {
                    let input: Value =
                        serde_json::from_str(&fragments.concat()).unwrap_or_else(|_| json!({}));
                    json!({"toolUse": {"toolUseId": id, "name": name, "input": input}})
                }
                Block::Reasoning {
                    fragments,
                    signature,
                } => json!({"reasoningContent": {"reasoningText": {
                    "text": fragments.concat(), "signature": signature
                }}}),
            })
            .collect();
        json!({
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": self.stop_reason.as_deref().unwrap_or("end_turn"),
            "usage": self.usage_json(),
            "metrics": {"latencyMs": 42},
        })
    }

    /// The whole answer as a reply (with `x-amzn-requestid`).
    pub fn reply(&self) -> Reply {
        Reply::json(200, self.to_json()).header("x-amzn-requestid", REQUEST_ID)
    }

    /// The stream's events, `(event type, payload)`, in order.
    pub fn to_events(&self) -> Vec<(String, Value)> {
        let mut events = vec![("messageStart".to_owned(), json!({"role": "assistant"}))];
        for (index, block) in self.blocks.iter().enumerate() {
            let delta = |delta: Value| {
                (
                    "contentBlockDelta".to_owned(),
                    json!({"contentBlockIndex": index, "delta": delta}),
                )
            };
            match block {
                Block::Text(fragments) => {
                    events.extend(fragments.iter().map(|text| delta(json!({"text": text}))));
                }
                Block::ToolUse {
                    id,
                    name,
                    fragments,
                } => {
                    events.push((
                        "contentBlockStart".to_owned(),
                        json!({"contentBlockIndex": index,
                               "start": {"toolUse": {"toolUseId": id, "name": name}}}),
                    ));
                    events.extend(
                        fragments
                            .iter()
                            .map(|input| delta(json!({"toolUse": {"input": input}}))),
                    );
                }
                Block::Reasoning {
                    fragments,
                    signature,
                } => {
                    events.extend(
                        fragments
                            .iter()
                            .map(|text| delta(json!({"reasoningContent": {"text": text}}))),
                    );
                    events.push(delta(json!({"reasoningContent": {"signature": signature}})));
                }
            }
            events.push((
                "contentBlockStop".to_owned(),
                json!({"contentBlockIndex": index}),
            ));
        }
        if let Some(reason) = &self.stop_reason {
            events.push(("messageStop".to_owned(), json!({"stopReason": reason})));
            events.push((
                "metadata".to_owned(),
                json!({"usage": self.usage_json(), "metrics": {"latencyMs": 42}}),
            ));
        }
        events
    }

    /// The stream's frames, one per event.
    pub fn to_frames(&self) -> Vec<Vec<u8>> {
        self.to_events()
            .iter()
            .map(|(kind, payload)| event_frame(kind, payload))
            .collect()
    }

    /// The streamed answer as a reply: one HTTP chunk per frame (re-cut it with
    /// [`Reply::cut_at`]).
    pub fn stream_reply(&self) -> Reply {
        stream_reply(self.to_frames())
    }
}

/// A ConverseStream reply of these bytes (`application/vnd.amazon.eventstream`).
pub fn stream_reply<I, C>(chunks: I) -> Reply
where
    I: IntoIterator<Item = C>,
    C: Into<Vec<u8>>,
{
    Reply::chunked(200, chunks)
        .header("content-type", crate::bedrock::EVENT_STREAM_MEDIA_TYPE)
        .header("x-amzn-requestid", REQUEST_ID)
}

/// One event-stream frame with string headers and `payload`, CRCs and all.
pub fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut message = Message::new(payload.to_vec());
    for (name, value) in headers {
        message = message.add_header(Header::new(
            (*name).to_owned(),
            HeaderValue::String((*value).to_owned().into()),
        ));
    }
    let mut bytes = Vec::new();
    write_message_to(&message, &mut bytes).expect("a frame the format can carry");
    bytes
}

/// The frame of event `kind` with this JSON payload.
pub fn event_frame(kind: &str, payload: &Value) -> Vec<u8> {
    frame(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

/// The frame of an exception in the middle of a stream (`throttlingException`,
/// `modelStreamErrorException`, ...).
pub fn exception_frame(kind: &str, message: &str) -> Vec<u8> {
    frame(
        &[
            (":exception-type", kind),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        json!({"message": message}).to_string().as_bytes(),
    )
}

/// An error answer as Bedrock gives one: the status, `{"message"}` and the
/// `x-amzn-ErrorType` header (`ThrottlingException`, `ValidationException`, ...).
pub fn error_reply(status: u16, kind: &str, message: &str) -> Reply {
    Reply::json(status, json!({"message": message}))
        .header(
            "x-amzn-errortype",
            &format!("{kind}:http://internal.amazon.com/"),
        )
        .header("x-amzn-requestid", REQUEST_ID)
}

/// Makes `server` check the SigV4 signature of every request under `/model/` against
/// `credentials` and `region`, answering a wrong or missing one with a 403
/// (`InvalidSignatureException`) as Bedrock does.
pub fn require_signature(server: &FakeProvider, credentials: &AwsCredentials, region: &str) {
    let credentials = credentials.clone();
    let region = region.to_owned();
    server.set_guard(move |request| {
        if !request.path().starts_with("/model/") {
            return None;
        }
        verify_signature(request, &credentials, &region)
            .err()
            .map(|why| error_reply(403, "InvalidSignatureException", &why))
    });
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// SigV4's URI encoding: everything but the unreserved characters, `%XX` uppercase.
fn uri_encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Recomputes the SigV4 signature of `request` (service `bedrock`) with `credentials`
/// and compares it with the one in its `authorization` header. `Err` says what is wrong.
///
/// # Errors
///
/// A missing or malformed `authorization` or `x-amz-date`, another key id, region or
/// service, an unsigned `host`, a missing session token, or a signature that differs.
pub fn verify_signature(
    request: &RecordedRequest,
    credentials: &AwsCredentials,
    region: &str,
) -> Result<(), String> {
    let authorization = request
        .header("authorization")
        .ok_or("no authorization header")?;
    let rest = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not an AWS4-HMAC-SHA256 authorization")?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or("a malformed authorization")?;
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => return Err(format!("an unknown authorization field `{name}`")),
        }
    }
    let (credential, signed_headers, signature) = match (credential, signed_headers, signature) {
        (Some(c), Some(h), Some(s)) => (c, h, s),
        _ => return Err("the authorization lacks Credential, SignedHeaders or Signature".into()),
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, scope_region, service, terminal] = scope[..] else {
        return Err("a malformed credential scope".into());
    };
    if key_id != credentials.access_key_id {
        return Err("the access key id is not the expected one".into());
    }
    if scope_region != region || service != "bedrock" || terminal != "aws4_request" {
        return Err(format!(
            "the scope is {scope_region}/{service}/{terminal}, not {region}/bedrock/aws4_request"
        ));
    }
    let amz_date = request.header("x-amz-date").ok_or("no x-amz-date header")?;
    if amz_date.len() != 16 || !amz_date.starts_with(date) {
        return Err("x-amz-date does not match the credential's date".into());
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    for required in ["host", "x-amz-date"] {
        if !names.contains(&required) {
            return Err(format!("`{required}` is not signed"));
        }
    }
    if let Some(token) = &credentials.session_token
        && (!names.contains(&"x-amz-security-token")
            || request.header("x-amz-security-token") != Some(token.expose()))
    {
        return Err("the session token is missing or not signed".into());
    }
    let mut canonical_headers = String::new();
    for name in &names {
        let values: Vec<String> = request
            .headers()
            .filter(|(header, _)| header == name)
            .map(|(_, value)| {
                String::from_utf8_lossy(value)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if values.is_empty() {
            return Err(format!("the signed header `{name}` was not sent"));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let canonical_uri: Vec<String> = request.path().split('/').map(uri_encode).collect();
    let mut query: Vec<(String, String)> = request
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method(),
        canonical_uri.join("/"),
        sha256_hex(request.body()),
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/bedrock/aws4_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let secret = format!("AWS4{}", credentials.secret_access_key.expose());
    let key = hmac(secret.as_bytes(), date.as_bytes());
    let key = hmac(&key, region.as_bytes());
    let key = hmac(&key, b"bedrock");
    let key = hmac(&key, b"aws4_request");
    let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    if expected != signature {
        return Err(
            "The request signature we calculated does not match the signature you provided.".into(),
        );
    }
    Ok(())
}
