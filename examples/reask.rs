//! A validation rule the first answer breaks: the errors go back to the model by field
//! path, and the second answer is valid. The ledger shows both attempts.
//!
//! ```sh
//! cargo run --example reask
//! ```

#[path = "common/mod.rs"]
mod common;

use instructor::prelude::*;
use instructor::providers::testing::{Reply, openai::ChatCompletion};

/// A person.
#[derive(Debug, Deserialize, Extract)]
pub struct User {
    /// Full name, in capitals.
    #[extract(validate = uppercase)]
    pub name: String,
    pub age: u8,
}

fn uppercase(name: &str, _: &Context) -> Result<(), ValidationError> {
    if name.chars().any(char::is_lowercase) {
        return Err(ValidationError::new(format!(
            "must be in capitals, like {:?}",
            name.to_uppercase()
        )));
    }
    Ok(())
}

/// What a model answers offline: a name in lowercase first, then in capitals.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 25}"#).reply(),
        ChatCompletion::tool_call("User", r#"{"name": "JASON", "age": 25}"#).reply(),
    ]
}

/// Extracts the user, re-asking once if needed, and prints every attempt.
pub async fn run(client: &Client) -> Result<instructor::Completion<User>, instructor::Error> {
    let done = client
        .extract::<User>()
        .user("Jason is 25")
        .max_retries(2)
        .with_completion()
        .await?;
    println!("{:#?}", done.value);
    for attempt in &done.ledger.attempts {
        println!(
            "attempt {}: {}",
            attempt.number,
            attempt.error.as_deref().unwrap_or("valid")
        );
    }
    Ok(done)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
