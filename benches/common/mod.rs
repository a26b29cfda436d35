//! Shared by the streaming benchmarks over HTTP: the report they extract, the answer
//! cut into tool-call deltas, and the fake provider on a thread of its own (so that its
//! work is not counted in the client thread's CPU time).

#![allow(dead_code)]

use instructor::prelude::*;
use instructor::providers::testing::FakeProvider;
use instructor::providers::testing::Reply;
use instructor::providers::testing::openai::ChatCompletion;
use std::sync::Arc;

#[derive(Debug, Deserialize, Extract)]
pub struct Section {
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub score: f64,
}

#[derive(Debug, Deserialize, Extract)]
pub struct Report {
    pub title: String,
    pub author: String,
    pub sections: Vec<Section>,
}

/// The size of one tool-call delta, as models stream them (a few tokens).
pub const DELTA: usize = 20;

/// A report of about `target` bytes, with escapes and non-ASCII text like real answers.
pub fn report(target: usize) -> String {
    let mut sections = Vec::new();
    let mut size = 0;
    let mut i = 0u64;
    while size < target {
        let section = serde_json::json!({
            "title": format!("Section {i}: findings and \"next steps\""),
            "body": format!(
                "Paragraph {i}. The quarterly numbers moved by {}% — mostly in the north.\nSee the appendix for details; nothing unusual was flagged by the review.",
                i % 17
            ),
            "tags": ["finance", format!("q{}", i % 4 + 1), "review"],
            "score": (i % 100) as f64 / 7.0,
        });
        size += section.to_string().len() + 1;
        sections.push(section);
        i += 1;
    }
    serde_json::json!({
        "title": "Annual report",
        "author": "Analytics team",
        "sections": sections,
    })
    .to_string()
}

/// `text` in pieces of about [`DELTA`] bytes, cut on character boundaries.
pub fn deltas(text: &str) -> Vec<&str> {
    let mut pieces = Vec::with_capacity(text.len() / DELTA + 1);
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = DELTA.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// The HTTP chunks the server writes: SSE events packed up to this size, as a client
/// reading a busy connection finds them (the server flushing every 20-byte event on its
/// own would make the client's cost per byte depend on how the two threads happen to
/// be scheduled, not on the client).
pub const HTTP_CHUNK: usize = 8 * 1024;

/// The streamed OpenAI answer calling the `Report` tool with `text`: one SSE event per
/// delta, events packed into HTTP chunks of about [`HTTP_CHUNK`] bytes.
pub fn streamed_answer(text: &str) -> Reply {
    let events = ChatCompletion::tool_call_fragments("Report", deltas(text)).to_sse_events();
    let mut chunks = Vec::new();
    let mut chunk = String::new();
    for event in events {
        chunk.push_str(&event);
        if chunk.len() >= HTTP_CHUNK {
            chunks.push(std::mem::take(&mut chunk));
        }
    }
    chunks.push(chunk);
    Reply::sse(chunks)
}

/// The fake provider, serving from a thread and runtime of its own.
pub fn start_server() -> Arc<FakeProvider> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let server = Arc::new(FakeProvider::start().await);
            sender.send(Arc::clone(&server)).expect("the bench waits");
            // Serve until the process ends.
            std::future::pending::<()>().await;
        });
    });
    receiver.recv().expect("the server starts")
}

/// A client runtime on the calling thread: everything the client does runs there.
pub fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// An instructor client for the fake provider.
pub fn client(server: &FakeProvider) -> instructor::Client {
    use instructor::providers::openai::{OpenAi, OpenAiConfig};
    instructor::Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())))
        .with_model("gpt-4o-mini")
}

/// Consumes `.partial()` to the end, dropping each update before polling the next, as a
/// UI rendering each snapshot does; returns the number of partials and the value.
pub async fn consume_partials(client: &instructor::Client) -> (usize, Report) {
    use futures_util::StreamExt;
    use instructor::client::PartialUpdate;
    let mut stream = client.extract::<Report>().user("The report.").partial();
    let mut partials = 0;
    while let Some(update) = stream.next().await {
        match update.expect("a valid stream") {
            PartialUpdate::Partial(partial) => {
                std::hint::black_box(&partial);
                partials += 1;
            }
            PartialUpdate::Done(done) => return (partials, done.value),
            other => panic!("no restart expected: {other:?}"),
        }
    }
    panic!("the stream ended without a value")
}
