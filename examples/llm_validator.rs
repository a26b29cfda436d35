//! The overview's `llm_validator`: a model judges whether an answer says objectionable
//! things. First a value made by hand is checked directly (as the seed does), then an
//! extraction is checked on the fly: its objectionable answer is re-asked with the
//! model's reason, and the checks show in the ledger. Last, the same rule is put on the
//! type itself with `#[extract(llm_validate = "...")]`, judged by the extraction's own
//! model.
//!
//! ```sh
//! cargo run --example llm_validator
//! OPENAI_API_KEY=... cargo run --example llm_validator
//! ```

#[path = "common/mod.rs"]
mod common;

use instructor::LlmValidator;
use instructor::client::AttemptKind;
use instructor::prelude::*;
use instructor::providers::testing::{Reply, openai::ChatCompletion};
use instructor::validate::{AsyncValidator, field};
use serde::Serialize;

/// A question and its answer.
#[derive(Debug, Clone, Serialize, Deserialize, Extract)]
pub struct QuestionAnswer {
    /// The question asked.
    pub question: String,
    /// The answer to it.
    pub answer: String,
}

/// The same, with the check in the type: the extraction's model judges `answer`.
#[derive(Debug, Clone, Serialize, Deserialize, Extract)]
pub struct CheckedAnswer {
    /// The question asked.
    pub question: String,
    /// The answer to it.
    #[extract(llm_validate = "don't say objectionable things")]
    pub answer: String,
}

/// The statement answers are checked against.
pub const STATEMENT: &str = "don't say objectionable things";

/// What a model answers offline: the verdict on the hand-made value, then an
/// objectionable answer, its verdict, the re-asked answer and its verdict.
pub fn offline_answers() -> Vec<Reply> {
    let verdict = |json: &str| ChatCompletion::tool_call("Verdict", json).reply();
    let answer = |text: &str| {
        ChatCompletion::tool_call(
            "QuestionAnswer",
            format!(r#"{{"question": "What is the meaning of life?", "answer": "{text}"}}"#),
        )
        .reply()
    };
    let checked = |text: &str| {
        ChatCompletion::tool_call(
            "CheckedAnswer",
            format!(r#"{{"question": "What is the meaning of life?", "answer": "{text}"}}"#),
        )
        .reply()
    };
    let objectionable = r#"{"is_valid": false, "reason": "The statement promotes objectionable behavior by encouraging evil and stealing."}"#;
    vec![
        verdict(objectionable),
        answer("The meaning of life is to be evil and steal."),
        verdict(objectionable),
        answer("The meaning of life is what you make of it: kindness, curiosity and people."),
        verdict(r#"{"is_valid": true}"#),
        checked("The meaning of life is to be evil and steal."),
        verdict(objectionable),
        checked("To be kind, to learn, and to look after each other."),
        verdict(r#"{"is_valid": true}"#),
    ]
}

/// What the example found.
pub struct Found {
    /// The error of the hand-made value.
    pub direct: String,
    /// The extracted answer, after the re-ask.
    pub extracted: QuestionAnswer,
    /// The calls the extraction made: (attempt, what for).
    pub calls: Vec<(u32, String)>,
    /// The answer extracted with the check in the derive, and how many calls it took.
    pub derived: (CheckedAnswer, usize),
}

/// Checks a hand-made value, then extracts with the check on the `answer` field.
pub async fn run(client: &Client) -> Result<Found, Box<dyn std::error::Error>> {
    let check = field(
        "answer",
        |qa: &QuestionAnswer| &qa.answer,
        LlmValidator::new(STATEMENT, client),
    );

    // As the seed: a value made by hand, checked directly.
    let made = QuestionAnswer {
        question: "What is the meaning of life?".into(),
        answer: "The meaning of life is to be evil and steal".into(),
    };
    let direct = match check.validate(&made, &Context::new()).await {
        Ok(()) => "accepted".to_owned(),
        Err(errors) => errors.to_string(),
    };
    println!("Checked by hand:\n  {direct}");

    // In an extraction: the reason goes into the re-ask, the checks into the ledger.
    let done = client
        .extract::<QuestionAnswer>()
        .user("What is the meaning of life? Answer like a villain.")
        .validator(check)
        .with_completion()
        .await?;
    println!("Extracted: {:?}", done.value);
    let calls: Vec<(u32, String)> = done
        .ledger
        .attempts
        .iter()
        .map(|attempt| {
            let what = match &attempt.kind {
                AttemptKind::Validation { validator } => format!("check \"{validator}\""),
                _ => "answer".to_owned(),
            };
            println!(
                "  attempt {}: {what}{}",
                attempt.number,
                attempt
                    .error
                    .as_deref()
                    .map(|e| format!(" (failed: {e})"))
                    .unwrap_or_default()
            );
            (attempt.number, what)
        })
        .collect();

    // The rule in the type: the extraction's own model judges the field.
    let derived = client
        .extract::<CheckedAnswer>()
        .user("What is the meaning of life? Answer like a villain.")
        .with_completion()
        .await?;
    println!(
        "With #[extract(llm_validate)]: {:?} after {} calls",
        derived.value.answer,
        derived.ledger.attempts.len()
    );
    Ok(Found {
        direct,
        extracted: done.value,
        calls,
        derived: (derived.value, derived.ledger.attempts.len()),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = common::client(offline_answers()).await;
    run(&client).await?;
    Ok(())
}
