//! Gemini natively: a user extracted with JSON Schema output, streamed as it fills in
//! (Gemini's best mode for partials), then a list with a forced function call. With
//! `GOOGLE_CLOUD_PROJECT` (and application-default credentials) it asks Vertex AI, with
//! `GEMINI_API_KEY` the Gemini API, and offline the fake provider.
//!
//! ```sh
//! cargo run --example gemini
//! GEMINI_API_KEY=... cargo run --example gemini
//! GOOGLE_CLOUD_PROJECT=my-project cargo run --example gemini   # Vertex AI
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::gemini::{Gemini, GeminiConfig};
use instructor::providers::testing::{Reply, gemini::GenerateContent};

/// A user named in the text.
#[derive(Debug, Clone, Deserialize, Extract)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// The user's age in years.
    pub age: u8,
}

/// What a model answers offline.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        GenerateContent::text_fragments([r#"{"name": "Ja"#, r#"son", "age": "#, "25}"]).sse_reply(),
        GenerateContent::function_call(
            "User_list",
            r#"{"value": [{"name": "Ada", "age": 36}, {"name": "Grace", "age": 85}]}"#,
        )
        .reply(),
    ]
}

/// The streamed user (and how many partials it took), then the list.
pub async fn run(client: &Client) -> Result<(User, usize, Vec<User>), instructor::Error> {
    let mut updates = client
        .extract::<User>()
        .mode(Mode::JsonSchema)
        .user("Jason is 25 years old.")
        .partial();
    let (mut partials, mut user) = (0, None);
    while let Some(update) = updates.next().await {
        match update? {
            PartialUpdate::Partial(partial) => {
                partials += 1;
                println!("  partial: {:?} {:?}", partial.name, partial.age);
            }
            PartialUpdate::Done(done) => user = Some(done.value),
            _ => {}
        }
    }
    let user = user.ok_or_else(|| instructor::Error::InvalidRequest {
        reason: "the stream ended without a value".into(),
    })?;
    println!("User: {user:?}");
    let users = client
        .extract::<Vec<User>>()
        .mode(Mode::Tools)
        .user("Ada is 36 and Grace is 85.")
        .await?;
    println!("Users: {users:?}");
    Ok((user, partials, users))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::native_client(
        &["GOOGLE_CLOUD_PROJECT", "GEMINI_API_KEY", "GOOGLE_API_KEY"],
        || {
            let config = match GeminiConfig::vertex_from_env() {
                Ok(vertex) if std::env::var_os("GOOGLE_CLOUD_PROJECT").is_some() => vertex,
                _ => GeminiConfig::from_env(),
            };
            Client::new(Gemini::new(config)).with_model("gemini-2.5-flash")
        },
        |url| Client::new(Gemini::new(GeminiConfig::new(url))).with_model("gemini-2.5-flash"),
        offline_answers(),
    )
    .await;
    run(&client).await?;
    Ok(())
}
