//! A validation rule the first answer breaks: the errors go back to the model by field
//! path, and the second answer is valid. The ledger shows both attempts.
//!
//! ```sh
//! cargo run --example reask
//! ```

#[path = "common/mod.rs"]
mod common;

use instructor::prelude::*;
use instructor::providers::testing::openai::ChatCompletion;

/// A person.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct User {
    /// Full name, in capitals.
    #[extract(validate = uppercase)]
    name: String,
    age: u8,
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(vec![
        ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 25}"#).reply(),
        ChatCompletion::tool_call("User", r#"{"name": "JASON", "age": 25}"#).reply(),
    ])
    .await;
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
    Ok(())
}
