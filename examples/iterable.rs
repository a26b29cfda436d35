//! Extracts a list of users, yielding each one the moment its closing brace arrives.
//!
//! ```sh
//! cargo run --example iterable
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use instructor::prelude::*;
use instructor::providers::testing::{Reply, openai::ChatCompletion};

/// A person.
#[derive(Debug, Deserialize, Extract)]
pub struct User {
    pub name: String,
    pub age: u8,
}

/// What a model answers offline: the list, streamed in three pieces.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call_fragments(
            "User_list",
            [
                "{\"value\": [{\"name\": \"Jason\", \"age\": 25}",
                ", {\"name\": \"Sarah\", \"age\": 30}",
                ", {\"name\": \"Mike\", \"age\": 28}]}",
            ],
        )
        .sse_reply(),
    ]
}

/// Prints each user as soon as it is complete; returns them in order.
pub async fn run(client: &Client) -> Result<Vec<User>, instructor::Error> {
    let mut users = client
        .extract::<User>()
        .user("Jason is 25, Sarah is 30 and Mike is 28.")
        .iter();
    let mut all = Vec::new();
    while let Some(user) = users.next().await {
        let user = user?;
        println!("{user:?}");
        all.push(user);
    }
    Ok(all)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
