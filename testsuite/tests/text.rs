//! Plain text on every provider (the outlines seed): `client.text()...await`, a stream
//! of text chunks, a chat history, an image in a message; transport retries, refusals,
//! the deadline and requests that cannot be made, over real HTTP to the fake provider.

use futures_util::StreamExt;
use instructor::client::RetryPolicy;
use instructor::providers::anthropic::{Anthropic, AnthropicConfig};
use instructor::providers::cohere::{Cohere, CohereConfig};
use instructor::providers::gemini::{Gemini, GeminiConfig};
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::responses::{OpenAiResponses, ResponsesConfig};
use instructor::providers::testing::{
    FakeProvider, Reply, anthropic, cohere, gemini, openai::ChatCompletion, responses,
};
use instructor::{Client, Error, Image};
use std::time::Duration;

fn fast(client: Client) -> Client {
    client.with_retry_policy(RetryPolicy {
        initial_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    })
}

/// A client for each provider, with its fake's answer of `text` whole and streamed.
fn every_provider(server: &FakeProvider, text: &str) -> Vec<(&'static str, Client)> {
    let url = server.base_url();
    server.push(ChatCompletion::content(text).reply());
    server.push(ChatCompletion::content_fragments([&text[..4], &text[4..]]).sse_reply());
    server.push(anthropic::Message::text(text).reply());
    server.push(anthropic::Message::text_fragments([&text[..4], &text[4..]]).sse_reply());
    server.push(gemini::GenerateContent::text(text).reply());
    server.push(gemini::GenerateContent::text_fragments([&text[..4], &text[4..]]).sse_reply());
    server.push(cohere::Chat::text(text).reply());
    server.push(cohere::Chat::text_fragments([&text[..4], &text[4..]]).sse_reply());
    server.push(responses::Response::text(text).reply());
    server.push(responses::Response::text_fragments([&text[..4], &text[4..]]).sse_reply());
    vec![
        (
            "openai",
            Client::new(OpenAi::new(OpenAiConfig::new(&url))).with_model("gpt-4o-mini"),
        ),
        (
            "anthropic",
            Client::new(Anthropic::new(AnthropicConfig::new(&url))).with_model("claude-haiku-4-5"),
        ),
        (
            "gemini",
            Client::new(Gemini::new(GeminiConfig::new(&url))).with_model("gemini-2.5-flash"),
        ),
        (
            "cohere",
            Client::new(Cohere::new(CohereConfig::new(&url))).with_model("command-a-03-2025"),
        ),
        (
            "responses",
            Client::new(OpenAiResponses::new(ResponsesConfig::new(&url)))
                .with_model("gpt-4.1-mini"),
        ),
    ]
}

#[tokio::test]
async fn the_capital_of_latvia_whole_and_streamed_on_every_provider() {
    let server = FakeProvider::start().await;
    for (name, client) in every_provider(&server, "Riga is the capital.") {
        let text = client
            .text()
            .user("What's the capital of Latvia?")
            .max_tokens(20)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(text, "Riga is the capital.", "{name}");
        let mut chunks = Vec::new();
        let mut stream = client.text().user("What's the capital of Latvia?").stream();
        while let Some(chunk) = stream.next().await {
            chunks.push(chunk.unwrap_or_else(|e| panic!("{name}: {e}")));
        }
        assert_eq!(chunks, ["Riga", " is the capital."], "{name}");
    }
    // Each request carried the prompt and the limit in its own wire's words.
    let bodies: Vec<serde_json::Value> = server
        .requests()
        .iter()
        .map(|request| request.json().cloned().expect("JSON"))
        .collect();
    assert_eq!(bodies[0]["max_completion_tokens"], 20);
    assert_eq!(bodies[2]["max_tokens"], 20);
    assert_eq!(bodies[4]["generationConfig"]["maxOutputTokens"], 20);
    assert_eq!(bodies[6]["max_tokens"], 20);
    assert_eq!(bodies[8]["max_output_tokens"], 20);
    assert!(bodies.iter().all(|body| body.get("tools").is_none()));
}

#[tokio::test]
async fn a_history_and_an_image_reach_the_model() {
    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    let server = FakeProvider::start().await;
    server.push(anthropic::Message::text("A cat, still.").reply());
    let client = Client::new(Anthropic::new(AnthropicConfig::new(server.base_url())))
        .with_model("claude-haiku-4-5");
    let text = client
        .text()
        .system("Describe images in three words.")
        .user(("What is this?", Image::from_bytes(GIF).expect("gif")))
        .assistant("A cat.")
        .user("And now?")
        .await
        .expect("text");
    assert_eq!(text, "A cat, still.");
    let body = server
        .last_request()
        .expect("sent")
        .json()
        .cloned()
        .expect("JSON");
    assert_eq!(body["system"][0]["text"], "Describe images in three words.");
    assert_eq!(body["messages"][0]["content"][1]["type"], "image");
    assert_eq!(body["messages"][1]["role"], "assistant");
    assert_eq!(body["messages"][2]["content"][0]["text"], "And now?");
}

#[tokio::test]
async fn retries_refusals_deadlines_and_requests_that_cannot_be_made() {
    let server = FakeProvider::start().await;
    let client = fast(
        Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini"),
    );
    server.push(Reply::status(503));
    server.push(ChatCompletion::content("after a retry").reply());
    let (response, ledger) = client
        .text()
        .user("hi")
        .with_response()
        .await
        .expect("retried");
    assert_eq!(response.text.as_deref(), Some("after a retry"));
    assert_eq!(ledger.attempts[0].transport_retries, 1);

    server.push(Reply::json(
        200,
        serde_json::json!({"id": "c1", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}]}),
    ));
    let error = client.text().user("x").await.expect_err("refused");
    assert!(matches!(error, Error::Refusal { .. }), "{error:?}");

    server.push(
        ChatCompletion::content("late")
            .reply()
            .delay(Duration::from_secs(5)),
    );
    let error = client
        .text()
        .user("x")
        .timeout(Duration::from_millis(200))
        .await
        .expect_err("timed out");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");

    // A stream that stalls after its first chunk ends at the deadline, the chunk shown.
    let events = ChatCompletion::content_fragments(["Ri", "ga"]).to_sse_events();
    let (head, tail) = events.split_at(2);
    server.push(Reply::sse([head.concat(), tail.concat()]).delay_between(Duration::from_secs(5)));
    let mut stream = client
        .text()
        .user("x")
        .timeout(Duration::from_millis(500))
        .stream();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    assert!(
        matches!(items.first(), Some(Ok(chunk)) if chunk == "Ri"),
        "{items:?}"
    );
    assert!(
        matches!(items.last(), Some(Err(Error::Timeout { .. }))),
        "{items:?}"
    );

    let no_model = Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())));
    let error = no_model.text().user("x").await.expect_err("no model");
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    let error = client.text().await.expect_err("no message");
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
}
