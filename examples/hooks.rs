//! Hooks at each step of an extraction (request, response, usage, validation error,
//! retry), as one would wire them to logs or metrics; then a hook that stops the
//! retries when an answer is wrong in a way a re-ask will not fix.
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

/// What a model answers offline: an age out of range first, then a valid one; then,
/// for the hook that stops, an age out of range again.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 250}"#).reply(),
        ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 25}"#).reply(),
        ChatCompletion::tool_call("User", r#"{"name": "Tom", "age": 200}"#).reply(),
    ]
}

/// A hook that ends the extraction when the age is out of range: the text gives an
/// impossible age, and asking again would only make the model invent one. Returns the
/// error it ends with.
pub async fn stop_early(client: &Client) -> instructor::Error {
    let hooks = Hooks::new().stop_when(|event| match event {
        HookEvent::ValidationError { errors, .. }
            if errors.errors().iter().any(|e| e.path_string() == "age") =>
        {
            Some(Stop::new(
                "the text gives an impossible age; not asking again",
            ))
        }
        _ => None,
    });
    let result = client
        .extract::<User>()
        .user("Old Tom says he is 200 years old.")
        .max_retries(3)
        .hooks(hooks)
        .await;
    match result {
        Ok(user) => panic!("an impossible age was accepted: {user:?}"),
        Err(error) => {
            println!("Stopped: {error}");
            error
        }
    }
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
    stop_early(&client).await;
    Ok(())
}
