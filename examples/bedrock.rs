//! AWS Bedrock natively (the Converse API, signed with SigV4): a user extracted with a
//! forced tool, the same extraction streamed as typed partials from ConverseStream's
//! binary event stream, a list read item by item, and a plain text answer. With
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN` for temporary
//! credentials) and `AWS_REGION` it asks Bedrock (`BEDROCK_MODEL`, default Claude 3.5
//! Haiku; Llama and Mistral models work too), offline the fake provider.
//!
//! ```sh
//! cargo run --example bedrock
//! AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... cargo run --example bedrock
//! BEDROCK_MODEL=meta.llama3-1-70b-instruct-v1:0 AWS_REGION=us-west-2 ... cargo run --example bedrock
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::testing::{Reply, bedrock::Converse};

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
        Converse::tool_use("User", r#"{"name": "Jason", "age": 25}"#).reply(),
        Converse::tool_use_fragments("User", [r#"{"name": "Ja"#, r#"son", "age": "#, "25}"])
            .stream_reply(),
        Converse::tool_use_fragments(
            "User_list",
            [
                r#"{"value": [{"name": "Ada", "age": 36}, "#,
                r#"{"name": "Grace", "age": 85}]}"#,
            ],
        )
        .stream_reply(),
        Converse::text("Riga.").reply(),
    ]
}

/// What the example found: the user, how many partials the stream gave, the users of
/// the list, and the text answer.
pub struct Found {
    /// The user extracted whole.
    pub user: User,
    /// Partials before the streamed user was done.
    pub partials: usize,
    /// The users read item by item.
    pub users: Vec<User>,
    /// The plain text answer.
    pub capital: String,
}

/// Runs the four requests.
pub async fn run(client: &Client) -> Result<Found, instructor::Error> {
    let user = client
        .extract::<User>()
        .user("Jason is 25 years old.")
        .await?;
    println!("User: {user:?}");

    let mut updates = client
        .extract::<User>()
        .user("Jason is 25 years old.")
        .partial();
    let mut partials = 0;
    while let Some(update) = updates.next().await {
        match update? {
            PartialUpdate::Partial(partial) => {
                partials += 1;
                println!("  partial: {:?} {:?}", partial.name, partial.age);
            }
            PartialUpdate::Done(done) => println!("  done: {:?}", done.value),
            _ => {}
        }
    }

    let mut items = client
        .extract::<User>()
        .user("Ada is 36 and Grace is 85.")
        .iter();
    let mut users = Vec::new();
    while let Some(item) = items.next().await {
        let item = item?;
        println!("  item: {item:?}");
        users.push(item);
    }

    let capital = client
        .text()
        .user("What's the capital of Latvia? One word.")
        .max_tokens(20)
        .await?;
    println!("Capital: {capital}");
    Ok(Found {
        user,
        partials,
        users,
        capital,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::bedrock_client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
