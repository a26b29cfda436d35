//! Every example that talks to a model runs offline here, against the fake provider with the
//! answers it scripts for itself (`offline_answers()`), through its own `run()`: the
//! same code `cargo run --example NAME` runs, so none rots. Each `run` returns its
//! result, and the test checks it.

#![allow(dead_code)]
// Each example includes `examples/common` for its `main`; here `main` is unused.
#![allow(clippy::duplicate_mod)]

use instructor::Client;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply};

#[path = "../../examples/anthropic.rs"]
mod anthropic;
#[path = "../../examples/bedrock.rs"]
mod bedrock;
#[path = "../../examples/citations.rs"]
mod citations;
#[path = "../../examples/classification.rs"]
mod classification;
#[path = "../../examples/cohere.rs"]
mod cohere;
#[path = "../../examples/diagnosis.rs"]
mod diagnosis;
#[path = "../../examples/fallback.rs"]
mod fallback;
#[path = "../../examples/fan_out.rs"]
mod fan_out;
#[path = "../../examples/gemini.rs"]
mod gemini;
#[path = "../../examples/hooks.rs"]
mod hooks;
#[path = "../../examples/iterable.rs"]
mod iterable;
#[path = "../../examples/llm_validator.rs"]
mod llm_validator;
#[path = "../../examples/maybe.rs"]
mod maybe;
#[path = "../../examples/partial_streaming.rs"]
mod partial_streaming;
#[path = "../../examples/pipeline.rs"]
mod pipeline;
#[path = "../../examples/quickstart.rs"]
mod quickstart;
#[path = "../../examples/reask.rs"]
mod reask;
#[path = "../../examples/vertex.rs"]
mod vertex;
#[path = "../../examples/vision.rs"]
mod vision;

/// A client for a fresh fake provider holding `answers`; the server lives as long as
/// the returned handle.
async fn offline(answers: Vec<Reply>) -> (Client, FakeProvider) {
    let server = FakeProvider::start().await;
    for answer in answers {
        server.push(answer);
    }
    let client =
        Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini");
    (client, server)
}

#[tokio::test]
async fn the_anthropic_guide_runs_on_anthropics_wire() {
    use instructor::providers::anthropic::{Anthropic, AnthropicConfig};
    let server = FakeProvider::start().await;
    for answer in anthropic::offline_answers() {
        server.push(answer);
    }
    let client = Client::new(Anthropic::new(AnthropicConfig::new(server.base_url())))
        .with_model("claude-sonnet-4-5");
    let outcome = anthropic::run(&client).await.expect("the guide");
    assert_eq!(outcome.user.name, "John Doe");
    assert_eq!(outcome.user.properties.len(), 2);
    assert!(outcome.partial_updates >= 3, "{}", outcome.partial_updates);
    assert_eq!(outcome.streamed.properties[0].value, "Paris");
    let names: Vec<&str> = outcome
        .users
        .iter()
        .map(|user| user.name.as_str())
        .collect();
    assert_eq!(names, ["Ada", "Grace"]);
    assert_eq!(outcome.cache, [(1850, 0), (0, 1850)]);
    assert_eq!(outcome.image.objects, ["ant", "leaf"]);
    assert_eq!(outcome.thought.0.age, 35);
    assert_eq!(outcome.thought.1, 1, "the thinking block is kept");
    // What went over the wire: Anthropic's shapes.
    let bodies: Vec<serde_json::Value> = server
        .requests()
        .iter()
        .map(|request| request.json().cloned().expect("JSON"))
        .collect();
    assert_eq!(bodies.len(), 7);
    assert!(server.requests().iter().all(|r| r.path() == "/v1/messages"));
    assert_eq!(bodies[0]["max_tokens"], 1024);
    assert_eq!(bodies[0]["tool_choice"]["type"], "tool");
    assert_eq!(
        bodies[3]["messages"][0]["content"][0]["cache_control"]["type"],
        "ephemeral"
    );
    assert_eq!(
        bodies[5]["messages"][0]["content"][1]["source"]["type"],
        "url"
    );
    assert_eq!(
        bodies[5]["messages"][0]["content"][1]["cache_control"]["type"],
        "ephemeral"
    );
    assert_eq!(
        bodies[6]["tool_choice"]["type"], "auto",
        "thinking: the tool is asked for"
    );
}

#[tokio::test]
async fn gemini_streams_json_schema_output_and_forces_a_call() {
    use instructor::providers::gemini::{Gemini, GeminiConfig};
    let server = FakeProvider::start().await;
    for answer in gemini::offline_answers() {
        server.push(answer);
    }
    let client = Client::new(Gemini::new(GeminiConfig::new(server.base_url())))
        .with_model("gemini-2.5-flash");
    let (user, partials, users) = gemini::run(&client).await.expect("the example");
    assert_eq!((user.name.as_str(), user.age), ("Jason", 25));
    assert!(partials >= 2, "{partials}");
    assert_eq!(users.len(), 2);
    let requests = server.requests();
    assert!(requests[0].path().ends_with(":streamGenerateContent"));
    let body = requests[1].json().cloned().expect("JSON");
    assert_eq!(body["toolConfig"]["functionCallingConfig"]["mode"], "ANY");
}

#[tokio::test]
async fn bedrock_extracts_streams_and_answers_over_signed_converse() {
    use instructor::providers::bedrock::{AwsCredentials, Bedrock, BedrockConfig};
    use instructor::providers::testing::bedrock as fake;
    let server = FakeProvider::start().await;
    let credentials = AwsCredentials::new("AKIDEXAMPLE", "examples-test-secret-key");
    fake::require_signature(&server, &credentials, "eu-west-1");
    for answer in bedrock::offline_answers() {
        server.push(answer);
    }
    let config = BedrockConfig::new("eu-west-1", credentials).with_base_url(server.origin());
    let model = "mistral.mistral-large-2407-v1:0";
    let client = Client::new(Bedrock::new(config)).with_model(model);
    let found = bedrock::run(&client).await.expect("the example");
    assert_eq!((found.user.name.as_str(), found.user.age), ("Jason", 25));
    assert!(found.partials >= 2, "{}", found.partials);
    let names: Vec<&str> = found.users.iter().map(|user| user.name.as_str()).collect();
    assert_eq!(names, ["Ada", "Grace"]);
    assert_eq!(found.capital, "Riga.");
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|request| request.path()).collect();
    assert_eq!(
        paths,
        [
            fake::converse_path(model),
            fake::converse_stream_path(model),
            fake::converse_stream_path(model),
            fake::converse_path(model),
        ]
    );
    let body = requests[0].json().cloned().expect("JSON");
    assert_eq!(
        body["toolConfig"]["toolChoice"],
        serde_json::json!({"any": {}})
    );
    assert_eq!(server.remaining(), 0);
}

#[tokio::test]
async fn cohere_forces_a_tool_streams_json_schema_output_and_answers_text() {
    use instructor::providers::cohere::{Cohere, CohereConfig};
    let server = FakeProvider::start().await;
    for answer in cohere::offline_answers() {
        server.push(answer);
    }
    let client = Client::new(Cohere::new(CohereConfig::new(server.base_url())))
        .with_model("command-a-03-2025");
    let found = cohere::run(&client).await.expect("the example");
    let jason = cohere::ExtractUser {
        name: "Jason".into(),
        age: 25,
    };
    assert_eq!(found.by_tool, jason);
    assert_eq!(found.streamed, jason);
    assert!(found.partials >= 2, "{}", found.partials);
    assert_eq!(found.text, "Riga.");
    let bodies: Vec<serde_json::Value> = server
        .requests()
        .iter()
        .map(|request| request.json().cloned().expect("JSON"))
        .collect();
    assert_eq!(bodies[0]["tool_choice"], "REQUIRED");
    assert_eq!(bodies[0]["tools"][0]["function"]["name"], "ExtractUser");
    assert_eq!(bodies[1]["response_format"]["type"], "json_object");
    assert_eq!(bodies[1]["stream"], true);
    assert_eq!(bodies[2]["max_tokens"], 20);
}

#[tokio::test]
async fn vertex_exchanges_the_credentials_and_asks_the_project_endpoint() {
    let (client, server) = vertex::offline().await;
    let user = vertex::run(&client).await.expect("the example");
    assert_eq!((user.name.as_str(), user.age), ("Jason", 25));
    assert_eq!(server.requests_for("/token").len(), 1, "one exchange");
    let asked = server.last_request().expect("asked");
    assert!(
        asked.path().starts_with(
            "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
        ),
        "{}",
        asked.path()
    );
    assert_eq!(asked.header("authorization"), Some("Bearer ya29.offline"));
}

#[tokio::test]
async fn vision_asks_for_text_streams_it_and_sends_the_image() {
    use instructor::providers::anthropic::{Anthropic, AnthropicConfig};
    let server = FakeProvider::start().await;
    for answer in vision::offline_answers() {
        server.push(answer);
    }
    let client = Client::new(Anthropic::new(AnthropicConfig::new(server.base_url())))
        .with_model("claude-haiku-4-5");
    let (capital, chunks, description, colours) = vision::run(&client).await.expect("the example");
    assert_eq!(capital, "Riga.");
    assert_eq!(chunks.concat(), "Riga is on the Daugava.");
    assert_eq!(description, "An ant on a leaf.");
    assert_eq!(colours, "Black and tan.");
    let body = server.requests()[3].json().cloned().expect("JSON");
    assert_eq!(
        body["messages"][0]["content"][1]["source"]["url"],
        vision::IMAGE_URL
    );
    assert_eq!(
        body["messages"][1]["content"][0]["text"],
        "An ant on a leaf."
    );
}

#[tokio::test]
async fn fallback_hands_over_to_the_second_provider() {
    let (client, servers) = fallback::offline().await;
    let (user, provider, failed) = fallback::run(&client).await.expect("the example");
    assert_eq!(user.age, 25);
    assert_eq!(provider.as_deref(), Some("anthropic"));
    assert_eq!(failed, 1);
    assert_eq!(servers[0].requests().len(), 1);
    assert_eq!(servers[1].requests().len(), 1);
}

#[tokio::test]
async fn classification_labels_the_ticket_with_confidences_in_range() {
    use classification::{Category, Urgency};
    let (client, server) = offline(classification::offline_answers()).await;
    let triage = classification::run(&client).await.expect("a triage");
    assert_eq!(triage.primary_category, Category::Billing);
    assert_eq!(triage.urgency, Urgency::High);
    assert!(triage.needs_human);
    assert_eq!(triage.categories.len(), 3);
    // The model was told the range and the labels.
    let body = server.requests()[0].json().cloned().expect("JSON");
    let schema = body["tools"][0]["function"]["parameters"].to_string();
    assert!(schema.contains("feature-request"), "{schema}");
    assert!(schema.contains(r#""maximum":1.0"#), "{schema}");
}

#[tokio::test]
async fn diagnosis_reasons_first_and_returns_the_conclusion() {
    let (client, server) = offline(diagnosis::offline_answers()).await;
    let diagnosis = diagnosis::run(&client).await.expect("a diagnosis");
    assert_eq!(diagnosis.likely_cause, "Runaway process or query");
    assert!(diagnosis.escalate_to_human);
    let body = server.requests()[0].json().cloned().expect("JSON");
    let properties = body["tools"][0]["function"]["parameters"]["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(
        properties[0], "reasoning",
        "reasoning comes first: {properties:?}"
    );
}

#[tokio::test]
async fn pipeline_feeds_the_first_stage_into_the_second() {
    let (client, server) = offline(pipeline::offline_answers()).await;
    let document = pipeline::run(&client).await.expect("an enriched document");
    assert_eq!(document.event_type, "acquisition");
    assert_eq!(document.companies.len(), 3);
    let requests = server.requests();
    let first = requests[0].json().cloned().expect("JSON");
    let second = requests[1].json().cloned().expect("JSON");
    assert_eq!(first["model"], "gpt-4o-mini");
    assert_eq!(second["model"], "gpt-4o");
    let prompt = second["messages"][0]["content"].as_str().expect("text");
    assert!(
        prompt.contains("companies=Northwind Traders, Contoso Ltd, Fabrikam Partners"),
        "{prompt}"
    );
    assert!(prompt.contains("people=Ada Lovelace"), "{prompt}");
}

#[tokio::test]
async fn fan_out_keeps_input_order_with_bounded_concurrency() {
    let (client, server) = offline(fan_out::offline_answers()).await;
    let summaries = fan_out::run(&client).await.expect("summaries");
    assert_eq!(summaries.len(), fan_out::TEXTS.len());
    let mut asked: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.json().expect("JSON")["messages"][0]["content"].to_string())
        .collect();
    asked.sort();
    let mut expected: Vec<String> = fan_out::TEXTS
        .iter()
        .map(|t| serde_json::Value::from(format!("Summarise:\n{t}")).to_string())
        .collect();
    expected.sort();
    assert_eq!(asked, expected, "every text asked about once");
}

#[tokio::test]
async fn maybe_gives_a_value_or_the_reason_there_is_none() {
    let (client, _server) = offline(maybe::offline_answers()).await;
    let answers = maybe::run(&client).await.expect("answers");
    assert_eq!(answers[0].result.as_ref().map(|u| u.age), Some(25));
    assert!(answers[1].result.is_none());
    assert_eq!(
        answers[1].message.as_deref(),
        Some("The text mentions no person.")
    );
}

#[tokio::test]
async fn reask_names_the_error_and_the_second_answer_is_valid() {
    let (client, server) = offline(reask::offline_answers()).await;
    let done = reask::run(&client)
        .await
        .expect("valid on the second attempt");
    assert_eq!(done.value.name, "JASON");
    assert_eq!(done.ledger.attempts.len(), 2);
    let reask = server.requests()[1]
        .json()
        .cloned()
        .expect("JSON")
        .to_string();
    assert!(reask.contains("must be in capitals"), "{reask}");
}

#[tokio::test]
async fn hooks_see_every_step_and_one_stops_the_retries() {
    let (client, server) = offline(hooks::offline_answers()).await;
    let (user, lines) = hooks::run(&client).await.expect("a user");
    assert_eq!(user.age, 25);
    let kinds: Vec<&str> = lines
        .iter()
        .map(|line| line.split(']').next().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        [
            "[request 1",
            "[usage",
            "[invalid",
            "[retry",
            "[request 2",
            "[usage"
        ],
        "{lines:#?}"
    );
    // The hook that stops: one request, the typed reason, no re-ask.
    let before = server.requests().len();
    match hooks::stop_early(&client).await {
        instructor::Error::Stopped { reason, ledger } => {
            assert!(reason.message.contains("impossible age"), "{reason:?}");
            assert_eq!(ledger.attempts.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), before + 1);
}

#[tokio::test]
async fn llm_validator_checks_by_hand_and_in_an_extraction() {
    let (client, server) = offline(llm_validator::offline_answers()).await;
    let found = llm_validator::run(&client).await.expect("the example");
    assert!(
        found.direct.starts_with("answer: does not satisfy"),
        "{}",
        found.direct
    );
    assert!(found.direct.contains("objectionable behavior"));
    assert!(found.extracted.answer.contains("kindness"));
    let calls: Vec<(u32, &str)> = found
        .calls
        .iter()
        .map(|(number, what)| (*number, what.split(' ').next().unwrap_or_default()))
        .collect();
    assert_eq!(
        calls,
        [(1, "answer"), (1, "check"), (2, "answer"), (2, "check")]
    );
    // The re-ask carried the model's reason at the field.
    let reask = server.requests()[3]
        .json()
        .cloned()
        .expect("JSON")
        .to_string();
    assert!(reask.contains("answer: does not satisfy"), "{reask}");
    // The same rule in the derive: re-asked once, four calls.
    assert!(
        found.derived.0.answer.contains("kind"),
        "{:?}",
        found.derived
    );
    assert_eq!(found.derived.1, 4);
    assert_eq!(server.remaining(), 0);
}

#[tokio::test]
async fn citations_keep_the_quotes_found_with_their_place_and_drop_the_rest() {
    let (client, server) = offline(citations::offline_answers()).await;
    let (_, found, dropped) = citations::run(&client).await.expect("the example");
    assert_eq!(found.len(), 1);
    let (text, span) = &found[0];
    assert_eq!(&citations::SOURCE[span.clone()], text);
    assert_eq!(dropped, ["the main span measures 1.28 km"]);
    // The template put the source in the prompt.
    let asked = server.requests()[0]
        .json()
        .cloned()
        .expect("JSON")
        .to_string();
    assert!(asked.contains("Golden Gate Bridge opened"), "{asked}");
}

#[tokio::test]
async fn iterable_yields_each_user() {
    let (client, _server) = offline(iterable::offline_answers()).await;
    let users = iterable::run(&client).await.expect("users");
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["Jason", "Sarah", "Mike"]);
}

#[tokio::test]
async fn partial_streaming_shows_partials_then_the_report() {
    let (client, _server) = offline(partial_streaming::offline_answers()).await;
    let (partials, report) = partial_streaming::run(&client).await.expect("a report");
    assert!(partials >= 3, "{partials} partials");
    assert_eq!(report.rating, 4);
    assert_eq!(report.title, "Quarterly results");
}

#[tokio::test]
async fn quickstart_extracts_the_user() {
    let (client, server) = offline(quickstart::offline_answers()).await;
    let user = quickstart::run(&client).await.expect("a user");
    assert_eq!((user.name.as_str(), user.age), ("Jason Liu", 25));
    assert_eq!(user.properties.len(), 2);
    let body = server.requests()[0].json().cloned().expect("JSON");
    assert_eq!(body["messages"][1]["content"], quickstart::TEXT);
}
