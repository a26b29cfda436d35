//! Extracts a list of users, yielding each one the moment its closing brace arrives.
//!
//! ```sh
//! cargo run --example iterable
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use instructor::prelude::*;
use instructor::providers::testing::openai::ChatCompletion;

/// A person.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct User {
    name: String,
    age: u8,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scripted = ChatCompletion::tool_call_fragments(
        "User_list",
        [
            "{\"value\": [{\"name\": \"Jason\", \"age\": 25}",
            ", {\"name\": \"Sarah\", \"age\": 30}",
            ", {\"name\": \"Mike\", \"age\": 28}]}",
        ],
    )
    .sse_reply();
    let (client, _server) = common::client(vec![scripted]).await;
    let mut users = Box::pin(
        client
            .extract::<User>()
            .user("Jason is 25, Sarah is 30 and Mike is 28.")
            .iter(),
    );
    while let Some(user) = users.next().await {
        println!("{:?}", user?);
    }
    Ok(())
}
