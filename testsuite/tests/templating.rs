//! Prompt templates over real HTTP to the fake provider: message text rendered with the
//! context's variables before sending (as in the seed's `context={"data": ...}`), an
//! undefined variable refused before anything is sent, literal braces untouched when
//! no context is given, and the same variables seen by validators.

use futures_util::StreamExt;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
use instructor::{Error, ValidationError};
use serde::Serialize;
use serde_json::{Value, json};

/// A quote must occur in the source text given as the context's `source` variable.
fn quoted_from_source(quote: &str, context: &Context) -> Result<(), ValidationError> {
    let source = context
        .var("source")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if source.contains(quote) {
        Ok(())
    } else {
        Err(ValidationError::new(format!(
            "`{quote}` does not occur in the source text"
        )))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct Fact {
    #[extract(validate = quoted_from_source)]
    quote: String,
}

fn client(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini")
}

/// The text of each message the server received in request `index`.
fn sent_texts(server: &FakeProvider, index: usize) -> Vec<String> {
    let requests = server.requests();
    let body = requests[index].json().expect("a JSON body");
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| match &m["content"] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[tokio::test]
async fn message_text_is_rendered_with_the_context_before_sending() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Fact", r#"{"quote":"Ada met Bo"}"#).reply());
    let fact: Fact = client(&server)
        .extract::<Fact>()
        .system("Quote one fact from the {{ kind }}, word for word.")
        .user("{% for line in lines %}{{ loop.index }}. {{ line }}\n{% endfor %}")
        .context(json!({
            "kind": "minutes",
            "lines": ["Ada met Bo.", "They agreed on {{ nothing }}."],
            "source": "Ada met Bo. They agreed on {{ nothing }}.",
        }))
        .await
        .expect("a valid fact");
    assert_eq!(fact.quote, "Ada met Bo");
    assert_eq!(
        sent_texts(&server, 0),
        [
            "Quote one fact from the minutes, word for word.",
            // Variables are data: braces inside a value are sent as they are.
            "1. Ada met Bo.\n2. They agreed on {{ nothing }}.\n",
        ]
    );
}

#[derive(Serialize)]
struct Vars<'a> {
    source: &'a str,
}

#[tokio::test]
async fn any_serialize_value_is_a_context_and_validators_see_its_variables() {
    let server = FakeProvider::start().await;
    // The first answer quotes something the source does not hold: a re-ask names it.
    server.push(ChatCompletion::tool_call("Fact", r#"{"quote":"Ada left"}"#).reply());
    server.push(ChatCompletion::tool_call("Fact", r#"{"quote":"Ada stayed"}"#).reply());
    let fact = client(&server)
        .extract::<Fact>()
        .user("Quote from: {{ source }}")
        .context(Vars {
            source: "Ada stayed until noon.",
        })
        .max_retries(1)
        .await
        .expect("valid after one re-ask");
    assert_eq!(fact.quote, "Ada stayed");
    assert_eq!(
        sent_texts(&server, 0)[0],
        "Quote from: Ada stayed until noon."
    );
    let reask = server.requests()[1].json().expect("JSON").to_string();
    assert!(
        reask.contains("`Ada left` does not occur in the source text"),
        "{reask}"
    );
}

#[tokio::test]
async fn an_undefined_variable_is_refused_before_anything_is_sent() {
    let server = FakeProvider::start().await;
    let client = client(&server);
    let error = client
        .extract::<Fact>()
        .user("Summarize {{ document }}")
        .context(json!({"source": "x"}))
        .await
        .expect_err("undefined variable");
    match &error {
        Error::InvalidRequest { reason } => {
            assert!(reason.contains("message 0"), "{reason}");
            assert!(reason.contains("undefined"), "{reason}");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    // The same refusal from a stream, before its first update.
    let mut stream = client
        .extract::<Fact>()
        .user("{% if %}")
        .context(json!({"source": "x"}))
        .partial();
    match stream.next().await {
        Some(Err(Error::InvalidRequest { reason })) => {
            assert!(reason.contains("syntax"), "{reason}");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    // A context that is not a map of variables.
    let error = client
        .extract::<Fact>()
        .user("hi")
        .context(json!(["a", "list"]))
        .await
        .expect_err("not a map");
    assert!(
        matches!(&error, Error::InvalidRequest { reason } if reason.contains("an array")),
        "{error:?}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct Note {
    text: String,
}

#[tokio::test]
async fn without_a_context_braces_are_sent_as_written() {
    let server = FakeProvider::start().await;
    let literal = r#"Return {"text": "{{ a }}"} for {% this %}"#;
    // With variables, the text is a template (and `{% this %}` a syntax error)...
    let mut stream = client(&server)
        .extract::<Note>()
        .user(literal)
        .context(Context::new().with_var("a", 1))
        .partial();
    assert!(matches!(
        stream.next().await,
        Some(Err(Error::InvalidRequest { .. }))
    ));
    assert!(server.requests().is_empty());
    // ...without a context (or with typed values only), it is sent exactly as written.
    server.push(ChatCompletion::tool_call("Note", r#"{"text":"{{ a }}"}"#).sse_reply());
    server.push(ChatCompletion::tool_call("Note", r#"{"text":"{{ b }}"}"#).reply());
    let mut stream = client(&server).extract::<Note>().user(literal).partial();
    let mut done = None;
    while let Some(update) = stream.next().await {
        if let PartialUpdate::Done(value) = update.expect("no error") {
            done = Some(value.value);
        }
    }
    assert_eq!(done.map(|note| note.text).as_deref(), Some("{{ a }}"));
    struct Typed;
    let note = client(&server)
        .extract::<Note>()
        .user(literal)
        .context(Context::new().with(Typed))
        .await
        .expect("a note");
    assert_eq!(note.text, "{{ b }}");
    assert_eq!(sent_texts(&server, 0)[0], literal);
    assert_eq!(sent_texts(&server, 1)[0], literal);
}
