//! Chain of thought before the answer (the seed's incident diagnosis): a `reasoning`
//! field declared first, so the model writes it first (fields keep their declaration
//! order in the schema) and `.partial()` shows it first; the structured fields that
//! follow are better for it, and the reasoning can be logged for audit.
//!
//! To keep the reasoning out of the type the program passes on, convert: here
//! `Diagnosis::from(result)` drops it after logging.
//!
//! ```sh
//! cargo run --example diagnosis
//! ```

#[path = "common/mod.rs"]
mod common;

use instructor::prelude::*;
use instructor::providers::testing::{Reply, openai::ChatCompletion};

/// How sure the diagnosis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Extract)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// The model's answer: its reasoning first, then the conclusion.
#[derive(Debug, Deserialize, Extract)]
pub struct DiagnosisResult {
    /// Step-by-step analysis of the symptoms before reaching a conclusion.
    pub reasoning: String,
    pub likely_cause: String,
    pub confidence: Confidence,
    pub recommended_action: String,
    pub escalate_to_human: bool,
}

/// What the rest of the program sees: the conclusion without the reasoning.
#[derive(Debug, PartialEq)]
pub struct Diagnosis {
    pub likely_cause: String,
    pub confidence: Confidence,
    pub recommended_action: String,
    pub escalate_to_human: bool,
}

impl From<DiagnosisResult> for Diagnosis {
    fn from(result: DiagnosisResult) -> Self {
        Diagnosis {
            likely_cause: result.likely_cause,
            confidence: result.confidence,
            recommended_action: result.recommended_action,
            escalate_to_human: result.escalate_to_human,
        }
    }
}

pub const SYMPTOMS: &str =
    "Server CPU is at 100%, response times spiked 10 minutes ago, no recent deploys.";

/// What a model answers offline, reasoning first.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call(
            "DiagnosisResult",
            r#"{"reasoning": "CPU saturation with a sudden latency spike and no deploy points away from new code. A runaway process or an expensive query started 10 minutes ago is the most likely cause.", "likely_cause": "Runaway process or query", "confidence": "medium", "recommended_action": "Find the top CPU consumer and the slowest active queries; kill or throttle the offender.", "escalate_to_human": true}"#,
        )
        .reply(),
    ]
}

/// Diagnoses the symptoms; logs the reasoning and returns the conclusion only.
pub async fn run(client: &Client) -> Result<Diagnosis, instructor::Error> {
    let result = client
        .extract::<DiagnosisResult>()
        .system("Diagnose the incident. Think step by step in `reasoning` first.")
        .user(SYMPTOMS)
        .await?;
    println!("reasoning: {}", result.reasoning);
    let diagnosis = Diagnosis::from(result);
    println!("{diagnosis:#?}");
    Ok(diagnosis)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
