//! The Anthropic guide, natively: a user with properties through a forced tool, the
//! same type streamed as it fills in, a list of users item by item, a long text cached
//! across two extractions (with the cache reads and writes the ledger shows), an image
//! in the prompt, and extended thinking (the tool is then asked for, not forced).
//!
//! ```sh
//! cargo run --example anthropic                             # offline, fake provider
//! ANTHROPIC_API_KEY=sk-ant-... cargo run --example anthropic  # Anthropic's API
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::testing::{Reply, anthropic::Message};
use instructor::{Image, cached};
use serde_json::json;

/// A key-value property of a user.
#[derive(Debug, Clone, Deserialize, Extract)]
pub struct Property {
    /// The name of the property.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// A user with properties.
#[derive(Debug, Clone, Deserialize, Extract)]
pub struct User {
    /// The user's full name.
    pub name: String,
    /// The user's age in years.
    pub age: u8,
    /// What else is known about the user.
    pub properties: Vec<Property>,
}

/// A character of a book.
#[derive(Debug, Clone, Deserialize, Extract)]
pub struct Character {
    /// The character's name.
    pub name: String,
    /// Who the character is, in a sentence.
    pub description: String,
}

/// What an image shows.
#[derive(Debug, Clone, Deserialize, Extract)]
pub struct ImageDescription {
    /// What is in it, in a sentence.
    pub description: String,
    /// The objects seen.
    pub objects: Vec<String>,
}

/// An image every vision model can fetch (Anthropic's own documentation uses it).
pub const IMAGE_URL: &str =
    "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg";

/// The long text that is cached (a real prompt cache needs 1024 tokens or more).
pub fn book() -> String {
    let chapter = "Elizabeth Bennet, the second of five daughters, is quick-witted and \
                   quick to judge; she first finds Mr. Darcy proud and disagreeable. ";
    format!("<book>{}</book>", chapter.repeat(120))
}

const JOHN: &str = r#"{"name": "John Doe", "age": 35, "properties": [{"name": "City", "value": "New York"}, {"name": "Occupation", "value": "Software Engineer"}]}"#;
const ELIZABETH: &str =
    r#"{"name": "Elizabeth Bennet", "description": "The quick-witted second Bennet daughter."}"#;

/// What a model answers offline, in the order `run` asks.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        Message::tool_use("User", JOHN).reply(),
        Message::tool_use_fragments(
            "User",
            [
                r#"{"name": "Jane"#,
                r#" Smith", "age": 2"#,
                r#"8, "properties": [{"name": "City", "#,
                r#""value": "Paris"}]}"#,
            ],
        )
        .sse_reply(),
        Message::tool_use_fragments(
            "User_list",
            [
                r#"{"value": [{"name": "Ada", "age": 36, "properties": []}, "#,
                r#"{"name": "Grace", "age": 85, "properties": []}]}"#,
            ],
        )
        .sse_reply(),
        Message::tool_use("Character", ELIZABETH)
            .cache_usage(1850, 0)
            .reply(),
        Message::tool_use("Character", ELIZABETH)
            .cache_usage(0, 1850)
            .reply(),
        Message::tool_use(
            "ImageDescription",
            r#"{"description": "An ant on a leaf.", "objects": ["ant", "leaf"]}"#,
        )
        .reply(),
        Message::tool_use("User", JOHN)
            .thinking_first(["The user asks for ", "a sample user."], "sig-offline")
            .reply(),
    ]
}

/// What `run` found.
#[derive(Debug)]
pub struct Outcome {
    /// The user of the basic extraction.
    pub user: User,
    /// How many partial updates the streamed user took.
    pub partial_updates: usize,
    /// The streamed user.
    pub streamed: User,
    /// The users of the list, item by item.
    pub users: Vec<User>,
    /// Prompt tokens written to the cache, then read from it, by the two book
    /// extractions.
    pub cache: [(u64, u64); 2],
    /// The image's description.
    pub image: ImageDescription,
    /// The user extracted with thinking on, and the reasoning kept beside it.
    pub thought: (User, usize),
}

/// Runs each part of the guide against `client` (Anthropic or its fake).
pub async fn run(client: &Client) -> Result<Outcome, Box<dyn std::error::Error>> {
    let ask = "Create a user for a model with a name, age, and properties.";
    // Basic usage: a forced tool.
    let user: User = client
        .extract()
        .system("Extract structured information based on the user's request.")
        .user(ask)
        .max_tokens(1024)
        .await?;
    println!("User: {user:?}");

    // Partials: the user as it streams.
    let mut updates = client
        .extract::<User>()
        .user("Jane Smith is 28 and lives in Paris.")
        .partial();
    let (mut partial_updates, mut streamed) = (0, None);
    while let Some(update) = updates.next().await {
        match update? {
            PartialUpdate::Partial(partial) => {
                partial_updates += 1;
                println!("  partial: name {:?}, age {:?}", partial.name, partial.age);
            }
            PartialUpdate::Done(done) => streamed = Some(done.value),
            _ => {}
        }
    }
    let streamed = streamed.ok_or("the stream ended without a value")?;

    // Iterable: users as each one completes.
    let mut items = client
        .extract::<User>()
        .user("Ada is 36 and Grace is 85; they have no other properties.")
        .iter();
    let mut users = Vec::new();
    while let Some(item) = items.next().await {
        let item = item?;
        println!("  item: {} ({})", item.name, item.age);
        users.push(item);
    }

    // Caching a long text: the second extraction reads the prefix from the cache.
    let book = book();
    let mut cache = [(0, 0); 2];
    for slot in &mut cache {
        let done = client
            .extract::<Character>()
            .user((
                cached(book.clone()),
                "Extract a character from the text given above.",
            ))
            .with_completion()
            .await?;
        let usage = done.ledger.total_usage;
        *slot = (usage.cache_creation_tokens, usage.cached_tokens);
        println!(
            "Character: {} (cache written: {}, read: {})",
            done.value.name, usage.cache_creation_tokens, usage.cached_tokens
        );
    }

    // An image in the prompt, cached too.
    let image: ImageDescription = client
        .extract()
        .system("Analyze the content of the provided images in detail.")
        .user(("What is in this image?", Image::url(IMAGE_URL).cached()))
        .await?;
    println!("Image: {image:?}");

    // Extended thinking: the tool is asked for (a forced tool is refused while
    // thinking), and the reasoning stays beside the answer.
    let done = client
        .extract::<User>()
        .user(ask)
        .max_tokens(4096)
        .extra(
            "thinking",
            json!({"type": "enabled", "budget_tokens": 1024}),
        )
        .with_completion()
        .await?;
    println!(
        "With thinking: {} ({} reasoning block(s) kept)",
        done.value.name,
        done.response.reasoning.len()
    );
    Ok(Outcome {
        user,
        partial_updates,
        streamed,
        users,
        cache,
        image,
        thought: (done.value, done.response.reasoning.len()),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::anthropic_client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
