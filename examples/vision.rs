//! The outlines seed on any provider: plain text, a stream of text chunks, a chat
//! history, and an image in the prompt, with `client.text()`. Offline it asks the fake
//! provider speaking Anthropic's wire; with `ANTHROPIC_API_KEY` it asks Anthropic.
//!
//! ```sh
//! cargo run --example vision
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use instructor::providers::testing::{Reply, anthropic::Message};
use instructor::{Client, Image};

/// An image every vision model can fetch.
pub const IMAGE_URL: &str =
    "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg";

/// What a model answers offline.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        Message::text("Riga.").reply(),
        Message::text_fragments(["Riga ", "is ", "on the ", "Daugava."]).sse_reply(),
        Message::text("An ant on a leaf.").reply(),
        Message::text("Black and tan.").reply(),
    ]
}

/// The answer, the streamed chunks, the image's description and the follow-up.
pub async fn run(
    client: &Client,
) -> Result<(String, Vec<String>, String, String), instructor::Error> {
    let capital = client
        .text()
        .user("What's the capital of Latvia?")
        .max_tokens(20)
        .await?;
    println!("{capital}");
    let mut chunks = Vec::new();
    let mut stream = client
        .text()
        .user("Which river runs through Riga?")
        .stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        print!("{chunk}");
        chunks.push(chunk);
    }
    println!();
    let question = ("Describe the image in one sentence.", Image::url(IMAGE_URL));
    let description = client.text().user(question.clone()).max_tokens(100).await?;
    println!("{description}");
    let colours = client
        .text()
        .user(question)
        .assistant(description.clone())
        .user("What colour is it?")
        .max_tokens(50)
        .await?;
    println!("{colours}");
    Ok((capital, chunks, description, colours))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::anthropic_client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
