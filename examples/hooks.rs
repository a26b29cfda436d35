//! Hooks at each step of an extraction (request, response, usage, validation error,
//! retry), as one would wire them to logs or metrics.
//!
//! ```sh
//! cargo run --example hooks
//! ```

#[path = "common/mod.rs"]
mod common;

use instructor::client::{HookEvent, Hooks};
use instructor::prelude::*;
use instructor::providers::testing::openai::ChatCompletion;

/// A person.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct User {
    name: String,
    #[garde(range(max = 150))]
    age: u8,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(vec![
        ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 250}"#).reply(),
        ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 25}"#).reply(),
    ])
    .await;
    let hooks = Hooks::new().on(|event| match event {
        HookEvent::Request {
            attempt, request, ..
        } => {
            println!(
                "[request {attempt}] {} message(s) to {}",
                request.messages.len(),
                request.model
            )
        }
        HookEvent::Usage { usage, total, .. } => {
            println!(
                "[usage] +{} tokens, {} in all",
                usage.total(),
                total.total()
            )
        }
        HookEvent::ValidationError { errors, .. } => println!("[invalid] {errors}"),
        HookEvent::Retry { reason, .. } => println!("[retry] {reason}"),
        _ => {}
    });
    let user = client
        .extract::<User>()
        .user("Jason is 25")
        .hooks(hooks)
        .await?;
    println!("{user:?}");
    Ok(())
}
