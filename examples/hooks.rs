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
use instructor::providers::testing::{Reply, openai::ChatCompletion};
use std::sync::{Arc, Mutex};

/// A person.
#[derive(Debug, Deserialize, Extract)]
pub struct User {
    pub name: String,
    #[garde(range(max = 150))]
    pub age: u8,
}

/// What a model answers offline: an age out of range first, then a valid one.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 250}"#).reply(),
        ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 25}"#).reply(),
    ]
}

/// Extracts the user with hooks that print each step; returns the user and the lines
/// the hooks printed.
pub async fn run(client: &Client) -> Result<(User, Vec<String>), instructor::Error> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = Arc::clone(&log);
    let hooks = Hooks::new().on(move |event| {
        let line = match event {
            HookEvent::Request {
                attempt, request, ..
            } => format!(
                "[request {attempt}] {} message(s) to {}",
                request.messages.len(),
                request.model
            ),
            HookEvent::Usage { usage, total, .. } => format!(
                "[usage] +{} tokens, {} in all",
                usage.total(),
                total.total()
            ),
            HookEvent::ValidationError { errors, .. } => format!("[invalid] {errors}"),
            HookEvent::Retry { reason, .. } => format!("[retry] {reason}"),
            _ => return,
        };
        println!("{line}");
        lines.lock().expect("the log").push(line);
    });
    let user = client
        .extract::<User>()
        .user("Jason is 25")
        .hooks(hooks)
        .await?;
    println!("{user:?}");
    let lines = log.lock().expect("the log").clone();
    Ok((user, lines))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
