//! A two-stage pipeline (the seed's multi-step extraction): a cheap, fast model lists
//! the entities of a document, then a capable model enriches them with the first
//! stage's output in its prompt, as template variables. The model is chosen per
//! extraction; `PIPELINE_CHEAP_MODEL` and `PIPELINE_CAPABLE_MODEL` override the
//! defaults (`gpt-4o-mini`, `gpt-4o`).
//!
//! ```sh
//! cargo run --example pipeline
//! ```

#[path = "common/mod.rs"]
mod common;

use instructor::prelude::*;
use instructor::providers::testing::{Reply, openai::ChatCompletion};
use serde_json::json;

/// Stage 1: the raw entities.
#[derive(Debug, Deserialize, Extract)]
pub struct RawEntities {
    pub companies: Vec<String>,
    pub people: Vec<String>,
    pub dates: Vec<String>,
}

/// A company and its part in the document.
#[derive(Debug, Deserialize, Extract)]
pub struct EnrichedCompany {
    pub name: String,
    /// `acquirer`, `target`, `advisor`, etc.
    pub role_in_document: String,
    pub mentioned_amount: Option<f64>,
}

/// Stage 2: the enriched document.
#[derive(Debug, Deserialize, Extract)]
pub struct EnrichedDocument {
    pub companies: Vec<EnrichedCompany>,
    pub event_type: String,
    pub event_date: Option<String>,
}

pub const DOCUMENT: &str = "On March 3, 2026, Northwind Traders agreed to acquire Contoso Ltd for $1.2 billion. \
Fabrikam Partners advised Northwind; CEO Ada Lovelace called it a milestone.";

/// What the two models answer offline, in order.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call(
            "RawEntities",
            r#"{"companies": ["Northwind Traders", "Contoso Ltd", "Fabrikam Partners"], "people": ["Ada Lovelace"], "dates": ["March 3, 2026"]}"#,
        )
        .reply(),
        ChatCompletion::tool_call(
            "EnrichedDocument",
            r#"{"companies": [{"name": "Northwind Traders", "role_in_document": "acquirer", "mentioned_amount": 1200000000}, {"name": "Contoso Ltd", "role_in_document": "target", "mentioned_amount": null}, {"name": "Fabrikam Partners", "role_in_document": "advisor", "mentioned_amount": null}], "event_type": "acquisition", "event_date": "2026-03-03"}"#,
        )
        .model("gpt-4o")
        .reply(),
    ]
}

/// Runs both stages.
pub async fn run(client: &Client) -> Result<EnrichedDocument, instructor::Error> {
    let cheap = std::env::var("PIPELINE_CHEAP_MODEL").unwrap_or_else(|_| "gpt-4o-mini".into());
    let capable = std::env::var("PIPELINE_CAPABLE_MODEL").unwrap_or_else(|_| "gpt-4o".into());
    // Stage 1: fast, cheap extraction.
    let entities = client
        .extract::<RawEntities>()
        .model(cheap)
        .user("Extract all companies, people, and dates from:\n{{ text }}")
        .context(json!({"text": DOCUMENT}))
        .await?;
    println!("stage 1: {entities:?}");
    // Stage 2: richer extraction, told what stage 1 found.
    let enriched = client
        .extract::<EnrichedDocument>()
        .model(capable)
        .user(
            "Document: {{ text }}\n\n\
             Known entities: companies={{ companies | join(', ') }}, people={{ people | join(', ') }}\n\n\
             Now extract enriched company details and the event type.",
        )
        .context(json!({
            "text": DOCUMENT,
            "companies": entities.companies,
            "people": entities.people,
        }))
        .await?;
    println!("stage 2: {enriched:#?}");
    Ok(enriched)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
