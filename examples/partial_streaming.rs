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
use instructor::providers::testing::{Reply, openai::ChatCompletion};

/// A short report.
#[derive(Debug, Deserialize, Extract)]
pub struct Report {
    /// A headline.
    pub title: String,
    /// One paragraph.
    pub summary: String,
    /// 1 (bad) to 5 (great).
    #[garde(range(min = 1, max = 5))]
    pub rating: u8,
}

/// What a model answers offline: the report, streamed in six pieces.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call_fragments(
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
        .sse_reply(),
    ]
}

/// Prints each partial and the final value; returns the number of partials and the
/// report.
pub async fn run(client: &Client) -> Result<(usize, Report), Box<dyn std::error::Error>> {
    let mut stream = client
        .extract::<Report>()
        .user("Write a short report on a good quarter.")
        .partial();
    let mut partials = 0;
    while let Some(update) = stream.next().await {
        match update? {
            PartialUpdate::Partial(partial) => {
                partials += 1;
                println!("partial: {partial:?}");
            }
            PartialUpdate::Restarted { attempt, reason } => {
                println!("starting over (attempt {attempt}): {reason}")
            }
            PartialUpdate::Done(done) => {
                println!(
                    "\ndone: {:#?}\n{} attempt(s)",
                    done.value,
                    done.ledger.attempts.len()
                );
                return Ok((partials, done.value));
            }
            _ => {}
        }
    }
    Err("the stream ended without a value".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
