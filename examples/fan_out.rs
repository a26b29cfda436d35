//! Many extractions at once with bounded concurrency (the seed's `asyncio.gather` of
//! summaries): each `.send()` is a `Send + 'static` future that owns a cheap handle to
//! the client, so they go straight into `futures::stream::iter(...).buffered(n)` (at
//! most `n` requests in flight, results in input order) or `try_join_all`.
//!
//! ```sh
//! cargo run --example fan_out
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::{StreamExt, TryStreamExt, stream};
use instructor::prelude::*;
use instructor::providers::testing::{Reply, openai::ChatCompletion};

/// A summary of one text.
#[derive(Debug, Deserialize, Extract)]
pub struct Summary {
    pub title: String,
    pub key_points: Vec<String>,
}

pub const TEXTS: [&str; 5] = [
    "Rust 1.95 stabilizes several APIs and improves compile times.",
    "The city council approved a new bike lane network for 2027.",
    "A new battery chemistry promises twice the range of lithium-ion.",
    "Researchers mapped the migration routes of Arctic terns.",
    "A local bakery won the national sourdough championship.",
];

/// At most this many requests in flight.
pub const CONCURRENCY: usize = 3;

/// What a model answers offline: one summary per request (the fake answers requests
/// in the order they arrive, which concurrency shuffles, so offline every answer is
/// the same; a real model summarises each text).
pub fn offline_answers() -> Vec<Reply> {
    (0..TEXTS.len())
        .map(|_| {
            ChatCompletion::tool_call(
                "Summary",
                r#"{"title": "A short news item", "key_points": ["what happened", "why it matters"]}"#,
            )
            .reply()
        })
        .collect()
}

/// Summarises every text, `CONCURRENCY` at a time.
pub async fn run(client: &Client) -> Result<Vec<Summary>, instructor::Error> {
    let summaries: Vec<Summary> = stream::iter(TEXTS)
        .map(|text| {
            client
                .extract::<Summary>()
                .user(format!("Summarise:\n{text}"))
                .send()
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    for (text, summary) in TEXTS.iter().zip(&summaries) {
        println!("{text}\n  -> {}: {:?}", summary.title, summary.key_points);
    }
    Ok(summaries)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
