//! A `Report` extracted live in the terminal: each field on its own line, redrawn as the
//! answer streams, a spinner on each field still streaming and a check mark once it is
//! complete; re-asks are printed as they happen, then the validated report stays.
//!
//! ```sh
//! cargo run --example terminal                      # the sample text
//! cargo run --example terminal -- "text to analyse"
//! ```
//!
//! Without `OPENAI_API_KEY` (or `OPENAI_BASE_URL`) it answers from the local fake provider
//! (a scripted answer at a human pace, whose first try is re-asked); with a key it asks
//! the real provider (`OPENAI_MODEL`, default `gpt-4o-mini`).

mod render;
#[path = "../web/report.rs"]
#[allow(dead_code)]
mod report;

use std::io::IsTerminal;
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let text = if text.trim().is_empty() {
        report::SAMPLE_TEXT.to_owned()
    } else {
        text
    };
    let backend = report::Backend::from_env(Duration::from_millis(90));
    println!("Answers come from {}.\n", backend.describe());
    let (client, _server) = backend.ask().await?;
    let updates = client
        .extract::<report::Report>()
        .system(report::SYSTEM)
        .user(text)
        // Redrawn at most 20 times a second, however fast the model writes.
        .partial_throttled(Duration::from_millis(50));
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    let options = render::Options {
        ansi: std::io::stdout().is_terminal(),
        width,
        tick: Some(Duration::from_millis(100)),
    };
    let mut out = std::io::stdout().lock();
    match render::show(updates, &mut out, options).await? {
        Ok(_) => Ok(()),
        Err(error) => Err(error.into()),
    }
}
