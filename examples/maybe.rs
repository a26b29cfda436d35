//! `Maybe<T>`: extraction from text that may not hold the thing asked for. The model
//! answers with the value, or says there is none and why, instead of inventing one to
//! fill the required fields.
//!
//! ```sh
//! cargo run --example maybe
//! ```

#[path = "common/mod.rs"]
mod common;

use instructor::Maybe;
use instructor::prelude::*;
use instructor::providers::testing::{Reply, openai::ChatCompletion};

/// A person's details.
#[derive(Debug, Deserialize, Extract)]
pub struct UserDetail {
    pub name: String,
    pub age: u8,
}

pub const TEXTS: [&str; 2] = [
    "Jason is 25 years old and lives in Paris.",
    "The meeting moved to Thursday; bring the slides.",
];

/// What a model answers offline: a person, then none.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call(
            "Maybe_UserDetail",
            r#"{"result": {"name": "Jason", "age": 25}, "error": false}"#,
        )
        .reply(),
        ChatCompletion::tool_call(
            "Maybe_UserDetail",
            r#"{"result": null, "error": true, "message": "The text mentions no person."}"#,
        )
        .reply(),
    ]
}

/// Extracts a person from each text, if there is one.
pub async fn run(client: &Client) -> Result<Vec<Maybe<UserDetail>>, instructor::Error> {
    let mut answers = Vec::new();
    for text in TEXTS {
        let user = client.extract::<Maybe<UserDetail>>().user(text).await?;
        match &user.result {
            Some(user) => println!("{text}\n  -> {user:?}"),
            None => println!(
                "{text}\n  -> nobody: {}",
                user.message.as_deref().unwrap_or_default()
            ),
        }
        answers.push(user);
    }
    Ok(answers)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
