//! The floor of the streaming benchmarks over HTTP: reqwest, splitting the SSE on blank
//! lines, `serde_json` on each event's payload (borrowing the delta), and
//! `serde_json::from_str::<Report>` of the final text.

use super::common::Report;
use futures_util::StreamExt;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    choices: Vec<Choice<'a>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    delta: Delta<'a>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    tool_calls: Vec<Call<'a>>,
}

#[derive(Deserialize)]
struct Call<'a> {
    #[serde(borrow)]
    function: Function<'a>,
}

#[derive(Deserialize)]
struct Function<'a> {
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

/// Streams the answer with reqwest, splits the SSE on blank lines, reads each payload
/// with serde_json and appends the delta; `on_delta` sees the text after each delta.
/// Returns the report read from the whole text.
pub async fn by_hand(http: &reqwest::Client, url: &str, mut on_delta: impl FnMut(&str)) -> Report {
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(r#"{"model":"gpt-4o-mini","messages":[],"stream":true}"#)
        .send()
        .await
        .expect("the server answers");
    let mut body = response.bytes_stream();
    let mut buffer: Vec<u8> = Vec::new();
    let mut text = String::new();
    while let Some(bytes) = body.next().await {
        buffer.extend_from_slice(&bytes.expect("the body streams"));
        let mut start = 0;
        while let Some(end) = buffer[start..].windows(2).position(|w| w == b"\n\n") {
            let event = &buffer[start..start + end];
            start += end + 2;
            let Some(data) = event.strip_prefix(b"data: ") else {
                continue;
            };
            if data == b"[DONE]" {
                continue;
            }
            let chunk: Chunk<'_> = serde_json::from_slice(data).expect("a chunk");
            for choice in chunk.choices {
                for call in choice.delta.tool_calls {
                    if let Some(arguments) = call.function.arguments {
                        text.push_str(&arguments);
                        on_delta(&text);
                    }
                }
            }
        }
        buffer.drain(..start);
    }
    serde_json::from_str::<Report>(&text).expect("a report")
}
