//! What the demos extract (a `Report`), the client they ask, the answers the local fake
//! provider replays when there is no API key, and the JSON shape of a partial that the
//! page and the terminal render (present fields plus `"$state"`).

use std::time::Duration;

use instructor::Client;
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::openai::ChatCompletion;
use instructor::providers::testing::{FakeProvider, Reply};
use serde::Serialize;
use serde_json::{Value, json};

/// A structured report on a text.
#[derive(Debug, Clone, Serialize, Deserialize, Extract)]
pub struct Report {
    /// A short headline for the text.
    #[garde(length(chars, min = 3, max = 120))]
    pub title: String,
    /// Two or three sentences on what the text says.
    pub summary: String,
    /// The text's parts, in order.
    #[garde(length(min = 1), dive)]
    pub sections: Vec<Section>,
    /// How clear and complete the text is, from 0 to 100.
    #[garde(range(min = 0, max = 100))]
    pub score: u32,
}

/// One part of the report.
#[derive(Debug, Clone, Serialize, Deserialize, Extract)]
pub struct Section {
    /// The part's heading.
    #[garde(length(chars, min = 1))]
    pub heading: String,
    /// What the part says, in a sentence or two.
    pub body: String,
}

/// The text the demos offer to analyse.
pub const SAMPLE_TEXT: &str = "Q3 update from the platform team: we moved the billing \
service to the new cluster, cut p99 latency from 840 ms to 310 ms and closed 41 of 47 open \
incidents. Two migrations slipped to Q4 because the vendor API changed. Hiring: two of \
three open roles are filled. Next quarter we focus on the search rewrite and on-call load.";

/// Where the answers come from.
pub enum Backend {
    /// A real provider (`OPENAI_API_KEY` or `OPENAI_BASE_URL` set).
    Remote { client: Client, description: String },
    /// The local fake provider: for each question, a server of its own that replays
    /// [`scripted_answers`] (so that questions asked at once do not share answers).
    Offline { pace: Duration },
}

impl Backend {
    /// The real provider when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set, else the
    /// local fake provider with answers paced by `pace` between streamed events.
    pub fn from_env(pace: Duration) -> Self {
        if std::env::var_os("OPENAI_API_KEY").is_some()
            || std::env::var_os("OPENAI_BASE_URL").is_some()
        {
            let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());
            let provider = OpenAi::from_env();
            let description = format!(
                "{} at {} (model {model})",
                provider.config().name,
                provider.config().base_url
            );
            return Self::Remote {
                client: Client::new(provider).with_model(model),
                description,
            };
        }
        Self::offline(pace)
    }

    /// The local fake provider (a real HTTP server on 127.0.0.1 per question).
    pub fn offline(pace: Duration) -> Self {
        Self::Offline { pace }
    }

    /// The client for one question, and offline the fake server that answers it, to keep
    /// alive until the answer has been read.
    pub async fn ask(&self) -> std::io::Result<(Client, Option<FakeProvider>)> {
        match self {
            Self::Remote { client, .. } => Ok((client.clone(), None)),
            Self::Offline { pace } => {
                let server = FakeProvider::try_start().await?;
                for answer in scripted_answers(*pace) {
                    server.push(answer);
                }
                let provider = OpenAi::new(OpenAiConfig::new(server.base_url()));
                Ok((Client::new(provider).with_model("demo-model"), Some(server)))
            }
        }
    }

    /// Says in words where answers come from.
    pub fn describe(&self) -> String {
        match self {
            Self::Remote { description, .. } => description.clone(),
            Self::Offline { .. } => {
                "the local fake provider (no OPENAI_API_KEY): a scripted answer, whatever the text"
                    .to_owned()
            }
        }
    }

    /// Whether this is the local fake provider.
    pub fn is_offline(&self) -> bool {
        matches!(self, Self::Offline { .. })
    }
}

/// The system prompt of the demos.
pub const SYSTEM: &str = "You analyse texts. Give a short title, a two or three sentence \
summary, one section per part of the text, and a score from 0 to 100 for how clear and \
complete it is.";

/// The answers the fake provider replays for one question: a first answer whose score is
/// out of range (so the client re-asks), then a valid one. Both are streamed in
/// token-sized fragments, `pace` apart.
pub fn scripted_answers(pace: Duration) -> Vec<Reply> {
    let invalid = json!({
        "title": "Platform team, Q3",
        "summary": "The platform team moved billing to a new cluster.",
        "sections": [
            {"heading": "Billing", "body": "Moved to the new cluster."}
        ],
        "score": 140
    });
    let valid = json!({
        "title": "Platform team Q3: faster billing, fewer incidents",
        "summary": "The platform team moved billing to the new cluster, cutting p99 latency \
    from 840 ms to 310 ms, and closed most open incidents. Two migrations slipped to Q4 after a \
    vendor API change.",
        "sections": [
            {"heading": "Billing migration", "body": "Billing now runs on the new cluster; p99 latency fell from 840 ms to 310 ms."},
            {"heading": "Incidents", "body": "41 of 47 open incidents were closed."},
            {"heading": "Slipped work", "body": "Two migrations moved to Q4 because the vendor API changed."},
            {"heading": "Hiring", "body": "Two of three open roles are filled."},
            {"heading": "Next quarter", "body": "Focus on the search rewrite and on reducing on-call load."}
        ],
        "score": 87
    });
    [invalid, valid]
        .into_iter()
        .map(|answer| {
            ChatCompletion::tool_call_fragments("Report", fragments(&answer.to_string()))
                .sse_reply()
                .delay_between(pace)
        })
        .collect()
}

/// Cuts JSON text into pieces of a few characters, as a model streams tokens; a number
/// of two or more digits is always cut inside, so a renderer that showed numbers before
/// they are complete would show a prefix.
pub fn fragments(json: &str) -> Vec<String> {
    const SIZE: usize = 6;
    let chars: Vec<char> = json.chars().collect();
    let mut pieces = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        current.push(c);
        let next = chars.get(i + 1).copied();
        let inside_number = c.is_ascii_digit()
            && next.is_some_and(|n| n.is_ascii_digit())
            && !chars[..i].last().is_some_and(|p| p.is_ascii_digit());
        if current.chars().count() >= SIZE || inside_number {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// The partial as JSON for the page: its present fields, plus `"$state"` mapping each
/// present field's wire name to `"streaming"` or `"complete"` (each section carries its
/// own). This is the partial's own `Serialize`.
pub fn partial_json(partial: &PartialReport) -> Value {
    serde_json::to_value(partial).unwrap_or_else(|_| json!({}))
}
