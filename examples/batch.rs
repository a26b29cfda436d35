//! Many extractions handed to OpenAI's Batch API (half the price, answered within
//! 24 hours): each line built by the usual extraction builder, each answer validated
//! as a single extraction's, the invalid ones re-asked as a second batch.
//!
//! ```sh
//! cargo run --example batch                       # offline, against the local fake
//! OPENAI_API_KEY=sk-... cargo run --example batch # OpenAI (polls every 30 s)
//! ```

use instructor::client::{Batch, BatchItem};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiBatch, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply, openai::ChatCompletion};
use std::time::Duration;

/// A support ticket.
#[derive(Debug, Deserialize, Extract)]
pub struct Ticket {
    /// One line saying what is wrong.
    pub summary: String,
    /// 1 (lowest) to 5 (most urgent).
    #[garde(range(min = 1, max = 5))]
    pub priority: u8,
}

/// The messages to read.
pub const EMAILS: [(&str, &str); 3] = [
    ("mail-1", "The invoice PDF is blank again. Not urgent."),
    ("mail-2", "Production is DOWN, nobody can log in!"),
    ("mail-3", "Could you add a dark mode some day?"),
];

/// What a model answers offline: the second ticket's priority out of range first,
/// then, asked again in the second batch, in range.
pub fn offline_answers() -> Vec<Reply> {
    let ticket = |json: &str| ChatCompletion::tool_call("Ticket", json).reply();
    vec![
        ticket(r#"{"summary": "Blank invoice PDF", "priority": 2}"#),
        ticket(r#"{"summary": "Nobody can log in", "priority": 9}"#),
        ticket(r#"{"summary": "Dark mode request", "priority": 1}"#),
        ticket(r#"{"summary": "Nobody can log in", "priority": 5}"#),
    ]
}

/// The items of one batch: the same builder as `client.extract::<Ticket>()...await`.
fn items(client: &Client) -> Result<Vec<BatchItem<Ticket>>, instructor::Error> {
    EMAILS
        .iter()
        .map(|(id, text)| {
            client
                .extract::<Ticket>()
                .system("Turn the email into a support ticket.")
                .user(*text)
                .into_batch_item(*id)
        })
        .collect()
}

/// Submits the emails as one batch, waits, re-asks the invalid answers as a second
/// batch, and returns every ticket with its id.
pub async fn run(
    client: &Client,
    batch: &Batch,
    poll: Duration,
) -> Result<Vec<(String, Ticket)>, instructor::Error> {
    let mut tickets = Vec::new();
    let mut pending = items(client)?;
    for round in 1..=2 {
        if pending.is_empty() {
            break;
        }
        let job = batch.submit(pending).await?;
        println!("round {round}: batch {} submitted", job.id());
        let status = job.wait(poll).await?;
        println!("round {round}: {:?} {:?}", status.state, status.counts);
        let mut results = job.results().await?;
        for failure in &results.failed {
            println!("round {round}: {} failed: {}", failure.id, failure.error);
        }
        pending = results.take_retries();
        tickets.extend(
            results
                .succeeded
                .into_iter()
                .map(|(id, done)| (id, done.value)),
        );
    }
    tickets.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, ticket) in &tickets {
        println!("{id}: {ticket:?}");
    }
    Ok(tickets)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());
    let (config, poll, _server) = if std::env::var_os("OPENAI_API_KEY").is_some() {
        let config = instructor::providers::presets::Preset::OpenAi.config_from_env();
        println!("Submitting to {} at {}.", config.name, config.base_url);
        (config, Duration::from_secs(30), None)
    } else {
        println!("No OPENAI_API_KEY: running offline against the local fake provider.");
        let server = FakeProvider::start().await;
        for answer in offline_answers() {
            server.push(answer);
        }
        let config = OpenAiConfig::new(server.base_url());
        (config, Duration::from_millis(10), Some(server))
    };
    let client = Client::new(OpenAi::new(config.clone())).with_model(model);
    let batch = Batch::new(OpenAiBatch::new(config));
    run(&client, &batch, poll).await?;
    Ok(())
}
