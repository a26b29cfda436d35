//! A web page that shows a `Report` being extracted live: strings grow, sections appear
//! one by one, the score appears only once complete, each field is marked done when it
//! is; re-asks after a validation error show as they happen, then the validated report.
//!
//! ```sh
//! cargo run --example web            # then open the printed URL
//! PORT=8080 cargo run --example web  # another port (0: any free port)
//! ```
//!
//! Without `OPENAI_API_KEY` (or `OPENAI_BASE_URL`) it answers from the local fake provider:
//! a scripted answer streamed at a human pace, whose first try has an out-of-range score
//! and is re-asked. With a key it asks the real provider (`OPENAI_MODEL`, default
//! `gpt-4o-mini`).

mod app;
mod report;

use std::sync::Arc;
use std::time::Duration;

/// The pause between two streamed events of the scripted answer.
const OFFLINE_PACE: Duration = Duration::from_millis(90);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .parse::<u16>()
            .map_err(|_| format!("PORT must be a number from 0 to 65535, not {port:?}"))?,
        Err(_) => 3000,
    };
    let backend = Arc::new(report::Backend::from_env(OFFLINE_PACE));
    println!("Answers come from {}.", backend.describe());
    let (addr, serve) = app::bind(backend, port).await?;
    println!("Open http://{addr}/ (Ctrl-C to stop).");
    serve.await?;
    Ok(())
}
