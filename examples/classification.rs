//! Multi-label classification with confidence (the seed's support-ticket triage): every
//! category that applies with a confidence in `0..=1` (a garde range the model sees
//! and validation enforces), the primary one, the urgency and whether a human is needed.
//! Unit enums are single labels, `Vec` of them multi-label.
//!
//! ```sh
//! cargo run --example classification
//! ```

#[path = "common/mod.rs"]
mod common;

use instructor::prelude::*;
use instructor::providers::testing::{Reply, openai::ChatCompletion};

/// What a support ticket is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Extract)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Billing,
    Technical,
    Account,
    FeatureRequest,
    Complaint,
}

/// A category that applies, and how sure the model is.
#[derive(Debug, Deserialize, Extract)]
pub struct CategoryScore {
    pub category: Category,
    /// Confidence score 0-1.
    #[garde(range(min = 0.0, max = 1.0))]
    pub confidence: f64,
}

/// How soon someone must act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Extract)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    Low,
    Medium,
    High,
    Critical,
}

/// The triage of one support ticket.
#[derive(Debug, Deserialize, Extract)]
pub struct TicketClassification {
    /// All applicable categories with confidence scores, highest confidence first.
    pub categories: Vec<CategoryScore>,
    pub primary_category: Category,
    pub urgency: Urgency,
    pub needs_human: bool,
}

pub const TICKET: &str =
    "I've been charged twice this month and now I can't log in. Very frustrated.";

/// What a model answers offline.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call(
            "TicketClassification",
            r#"{"categories": [{"category": "billing", "confidence": 0.93}, {"category": "account", "confidence": 0.81}, {"category": "complaint", "confidence": 0.55}], "primary_category": "billing", "urgency": "high", "needs_human": true}"#,
        )
        .reply(),
    ]
}

/// Classifies the ticket and prints the triage.
pub async fn run(client: &Client) -> Result<TicketClassification, instructor::Error> {
    let triage = client
        .extract::<TicketClassification>()
        .system("Classify the support ticket.")
        .user(TICKET)
        .await?;
    println!("primary: {:?}", triage.primary_category);
    println!("needs a human: {}", triage.needs_human);
    for score in &triage.categories {
        println!("{:?}: {:.0}%", score.category, score.confidence * 100.0);
    }
    Ok(triage)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
