//! Citations: an answer backed by exact quotes from the source text. A quote the source
//! does not hold is dropped; one that it holds comes back with its place in the source.
//! Offline, the model's first answer invents one of its two quotes.
//!
//! ```sh
//! cargo run --example citations
//! OPENAI_API_KEY=... cargo run --example citations
//! ```

#[path = "common/mod.rs"]
mod common;

use instructor::citations::{Quotes, Source};
use instructor::prelude::*;
use instructor::providers::testing::{Reply, openai::ChatCompletion};

/// The text the answer must be backed by.
pub const SOURCE: &str = "The Golden Gate Bridge opened on May 27, 1937. Its main span is \
1,280 meters long, and it was the longest suspension bridge in the world until 1964.";

/// An answer to a question about the source, with the quotes that support it.
#[derive(Debug, Clone, Deserialize, Extract)]
pub struct CitedAnswer {
    /// The answer, in one sentence.
    pub answer: String,
    /// Exact quotes from the source that support the answer.
    pub quotes: Quotes,
}

/// What a model answers offline: one real quote and one invented.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call(
            "CitedAnswer",
            r#"{"answer": "It opened in 1937 and its main span is 1,280 m long.",
                "quotes": ["opened on May 27, 1937", "the main span measures 1.28 km"]}"#,
        )
        .reply(),
    ]
}

/// Asks the question; returns the answer with the quotes found (text and place) and
/// the quotes dropped.
pub async fn run(
    client: &Client,
) -> Result<
    (
        CitedAnswer,
        Vec<(String, std::ops::Range<usize>)>,
        Vec<String>,
    ),
    instructor::Error,
> {
    let answer = client
        .extract::<CitedAnswer>()
        .system("Answer from the source only, quoting it exactly.")
        .user("Source:\n{{ source }}\n\nWhen did the bridge open, and how long is its main span?")
        .context(
            Context::new()
                .with(Source::new(SOURCE))
                .with_var("source", SOURCE),
        )
        .await?;
    println!("{}", answer.answer);
    let found: Vec<(String, std::ops::Range<usize>)> = answer
        .quotes
        .iter()
        .filter_map(|quote| Some((quote.text().to_owned(), quote.span()?)))
        .collect();
    for (text, span) in &found {
        println!("  \"{text}\" at bytes {span:?} of the source");
    }
    let dropped: Vec<String> = answer
        .quotes
        .dropped()
        .map(|q| q.text().to_owned())
        .collect();
    for text in &dropped {
        println!("  dropped (not in the source): \"{text}\"");
    }
    Ok((answer, found, dropped))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
