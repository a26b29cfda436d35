//! Streams a `Report` as it is written: typed partials (strings grow; numbers appear
//! only once complete), then the validated value.
//!
//! ```sh
//! cargo run --example partial_streaming
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::testing::openai::ChatCompletion;

/// A short report.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct Report {
    /// A headline.
    title: String,
    /// One paragraph.
    summary: String,
    /// 1 (bad) to 5 (great).
    #[garde(range(min = 1, max = 5))]
    rating: u8,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scripted = ChatCompletion::tool_call_fragments(
        "Report",
        [
            "{\"title\": \"Quarter",
            "ly results\", \"summ",
            "ary\": \"Revenue grew in every ",
            "region; costs fell.\", \"rat",
            "ing\": 4",
            "}",
        ],
    )
    .sse_reply();
    let (client, _server) = common::client(vec![scripted]).await;
    let mut stream = client
        .extract::<Report>()
        .user("Write a short report on a good quarter.")
        .partial();
    while let Some(update) = stream.next().await {
        match update? {
            PartialUpdate::Partial(partial) => println!("partial: {partial:?}"),
            PartialUpdate::Restarted { attempt, reason } => {
                println!("starting over (attempt {attempt}): {reason}")
            }
            PartialUpdate::Done(done) => println!(
                "\ndone: {:#?}\n{} attempt(s)",
                done.value,
                done.ledger.attempts.len()
            ),
            _ => {}
        }
    }
    Ok(())
}
