//! Cohere natively (v2 chat), as in the overview's `from_cohere`: a user extracted with a
//! forced tool call, then the same type with Cohere's JSON Schema output streamed as
//! it fills in, then a plain text answer. With `COHERE_API_KEY` it asks Cohere;
//! offline, the fake provider answers in Cohere's wire format.
//!
//! ```sh
//! cargo run --example cohere
//! COHERE_API_KEY=... cargo run --example cohere
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::cohere::{Cohere, CohereConfig};
use instructor::providers::testing::{Reply, cohere::Chat};

/// A user named in the text.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
pub struct ExtractUser {
    /// The user's name.
    pub name: String,
    /// The user's age in years.
    pub age: u8,
}

/// What a model answers offline.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        Chat::tool_call("ExtractUser", r#"{"name": "Jason", "age": 25}"#)
            .tool_plan("I will extract the user's name and age.")
            .reply(),
        Chat::text_fragments([r#"{"name": "Ja"#, r#"son", "age": "#, "25}"]).sse_reply(),
        Chat::text("Riga.").reply(),
    ]
}

/// What the example found: the user by a tool, the user streamed (and how many
/// partials it took), and the text answer.
pub struct Found {
    /// Extracted with a forced tool call.
    pub by_tool: ExtractUser,
    /// Extracted with JSON Schema output, streamed.
    pub streamed: ExtractUser,
    /// Partials shown while it streamed.
    pub partials: usize,
    /// The plain text answer.
    pub text: String,
}

/// Runs the three requests on `client`.
pub async fn run(client: &Client) -> Result<Found, instructor::Error> {
    let by_tool = client
        .extract::<ExtractUser>()
        .user("Extract Jason is 25 years old.")
        .await?;
    println!("By a tool call: {by_tool:?}");

    let mut updates = client
        .extract::<ExtractUser>()
        .mode(Mode::JsonSchema)
        .user("Extract Jason is 25 years old.")
        .partial();
    let (mut partials, mut streamed) = (0, None);
    while let Some(update) = updates.next().await {
        match update? {
            PartialUpdate::Partial(partial) => {
                partials += 1;
                println!("  partial: {:?} {:?}", partial.name, partial.age);
            }
            PartialUpdate::Done(done) => streamed = Some(done.value),
            _ => {}
        }
    }
    let streamed = streamed.ok_or_else(|| instructor::Error::InvalidRequest {
        reason: "the stream ended without a value".into(),
    })?;
    println!("Streamed: {streamed:?}");

    let text = client
        .text()
        .user("What's the capital of Latvia? One word.")
        .max_tokens(20)
        .await?;
    println!("Text: {text}");
    Ok(Found {
        by_tool,
        streamed,
        partials,
        text,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::native_client(
        &["COHERE_API_KEY"],
        || Client::new(Cohere::new(CohereConfig::from_env())).with_model("command-a-03-2025"),
        |url| Client::new(Cohere::new(CohereConfig::new(url))).with_model("command-a-03-2025"),
        offline_answers(),
    )
    .await;
    run(&client).await?;
    Ok(())
}
