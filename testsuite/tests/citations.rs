//! Citations over real HTTP to the fake provider: a `Quote` the source does not hold is
//! re-asked by its path, found quotes carry their byte offsets in the source, `Quotes`
//! drops the invented ones (and re-asks when none is left), the quote streams as text
//! under `.partial()`, and an extraction with no source stops with a typed reason.

use futures_util::StreamExt;
use instructor::Error;
use instructor::citations::{Quote, Quotes, Source};
use instructor::client::{PartialUpdate, StoppedBy};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
use serde_json::json;

const SOURCE: &str = "Ada Lovelace was born in London in 1815.\nShe wrote the first published\nalgorithm for Babbage's engine.";

/// A fact and the words of the source that support it.
#[derive(Debug, Clone, Deserialize, Extract)]
struct Fact {
    statement: String,
    quote: Quote,
}

/// An answer with its supporting quotes.
#[derive(Debug, Clone, Deserialize, Extract)]
struct Answer {
    answer: String,
    quotes: Quotes,
}

fn client(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini")
}

#[tokio::test]
async fn an_invented_quote_is_re_asked_and_a_found_one_knows_where_it_is() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call(
            "Fact",
            r#"{"statement": "Ada wrote an algorithm", "quote": "She invented programming"}"#,
        )
        .reply(),
    );
    server.push(
        ChatCompletion::tool_call(
            "Fact",
            r#"{"statement": "Ada wrote an algorithm", "quote": "wrote the first published algorithm"}"#,
        )
        .reply(),
    );
    let fact = client(&server)
        .extract::<Fact>()
        .user(format!("What did Ada write? Quote the text.\n\n{SOURCE}"))
        .context(Context::new().with(Source::new(SOURCE)))
        .await
        .expect("the quote found on the re-ask");
    // Found across the line break, with its place in the source.
    let span = fact.quote.span().expect("a span");
    assert_eq!(
        &SOURCE[span.clone()],
        "wrote the first published\nalgorithm"
    );
    assert_eq!(span.start, SOURCE.find("wrote").expect("in the source"));
    let reask = server.requests()[1]
        .json()
        .cloned()
        .expect("JSON")
        .to_string();
    assert!(
        reask.contains("quote: this quote is not in the source text"),
        "{reask}"
    );
    assert!(reask.contains("She invented programming"), "{reask}");
}

#[tokio::test]
async fn quotes_drop_the_invented_ones_and_re_ask_when_none_is_left() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call(
            "Answer",
            r#"{"answer": "London", "quotes": ["born in Paris", "the moon"]}"#,
        )
        .reply(),
    );
    server.push(
        ChatCompletion::tool_call(
            "Answer",
            r#"{"answer": "London", "quotes": ["born in London", "born in 1816"]}"#,
        )
        .reply(),
    );
    let answer = client(&server)
        .extract::<Answer>()
        .user("Where was Ada born?")
        .context(json!({ "source": SOURCE }))
        .await
        .expect("one quote found on the re-ask");
    let found: Vec<(&str, Option<std::ops::Range<usize>>)> =
        answer.quotes.iter().map(|q| (q.text(), q.span())).collect();
    assert_eq!(found, [("born in London", Some(17..31))]);
    let dropped: Vec<&str> = answer.quotes.dropped().map(Quote::text).collect();
    assert_eq!(dropped, ["born in 1816"]);
    assert_eq!(
        server.requests().len(),
        2,
        "none left the first time: re-asked"
    );
    // Serialized, only what was found.
    assert_eq!(
        serde_json::to_value(&answer.quotes).expect("JSON"),
        json!(["born in London"])
    );
}

#[tokio::test]
async fn a_quote_streams_as_text_and_no_source_stops_the_extraction() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call_fragments(
            "Fact",
            [
                r#"{"statement": "birth", "quote": "born in"#,
                r#" London"}"#,
            ],
        )
        .sse_reply(),
    );
    let client = client(&server);
    let mut updates = client
        .extract::<Fact>()
        .user("Where was Ada born?")
        .context(Context::new().with(Source::new(SOURCE)))
        .partial();
    let mut quotes = Vec::new();
    let mut done = None;
    while let Some(update) = updates.next().await {
        match update.expect("an update") {
            PartialUpdate::Partial(partial) => quotes.extend(partial.quote.clone()),
            PartialUpdate::Done(completion) => done = Some(completion.value),
            _ => {}
        }
    }
    assert!(quotes.iter().any(|q| q == "born in"), "{quotes:?}");
    assert_eq!(done.expect("a value").quote.span(), Some(17..31));

    server.push(
        ChatCompletion::tool_call(
            "Fact",
            r#"{"statement": "birth", "quote": "born in London"}"#,
        )
        .reply(),
    );
    let error = client
        .extract::<Fact>()
        .user("Where was Ada born?")
        .max_retries(2)
        .await
        .expect_err("nothing to check against");
    match &error {
        Error::Stopped { reason, .. } => {
            assert!(
                matches!(&reason.by, StoppedBy::Validator { path } if *path == "quote"),
                "{reason:?}"
            );
            assert!(reason.message.contains("no source text"), "{reason:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 2, "not re-asked");
}
