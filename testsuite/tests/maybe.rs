//! `Maybe<T>` over real HTTP to the fake provider: a value found, a value missing with
//! the model's reason, answers that mix the two shapes re-asked by name, the schema
//! the model sees, and `.partial()` showing the value fill in.

use futures_util::StreamExt;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
use instructor::{Error, Maybe};

/// A person named in the text.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct Person {
    name: String,
    age: u8,
}

const TOOL: &str = "Maybe_Person";

fn client(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini")
}

#[tokio::test]
async fn a_found_value_and_a_missing_one_with_its_reason() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call(TOOL, r#"{"result":{"name":"Ada","age":36},"error":false}"#)
            .reply(),
    );
    server.push(
        ChatCompletion::tool_call(
            TOOL,
            r#"{"result":null,"error":true,"message":"No person is named."}"#,
        )
        .reply(),
    );
    let client = client(&server);
    let found = client
        .extract::<Maybe<Person>>()
        .user("Ada is 36.")
        .await
        .expect("a value");
    assert_eq!(
        found,
        Maybe::found(Person {
            name: "Ada".into(),
            age: 36
        })
    );
    let missing = client
        .extract::<Maybe<Person>>()
        .user("It rained.")
        .await
        .expect("a statement");
    assert!(!missing.is_found());
    assert_eq!(missing.into_result(), Err("No person is named.".to_owned()));

    // The schema the model saw describes both shapes.
    let body = server.requests()[0].json().cloned().expect("JSON");
    let tool = &body["tools"][0]["function"];
    assert_eq!(tool["name"], TOOL);
    let properties = &tool["parameters"]["properties"];
    for field in ["result", "error", "message"] {
        assert!(
            properties[field]["description"].is_string(),
            "{field} is described: {properties:#}"
        );
    }
    assert!(
        properties["error"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("message")),
        "{properties:#}"
    );
}

#[tokio::test]
async fn answers_that_mix_the_shapes_are_re_asked_by_name() {
    for (bad, expected) in [
        (
            r#"{"result":{"name":"Ada","age":36},"error":true,"message":"none"}"#,
            "holds a value while `error` is true",
        ),
        (
            r#"{"result":null,"error":false}"#,
            "`result` is null while `error` is false",
        ),
        (r#"{"result":null,"error":true}"#, "without a `message`"),
    ] {
        let server = FakeProvider::start().await;
        server.push(ChatCompletion::tool_call(TOOL, bad).reply());
        server.push(
            ChatCompletion::tool_call(TOOL, r#"{"result":null,"error":true,"message":"None."}"#)
                .reply(),
        );
        let value = client(&server)
            .extract::<Maybe<Person>>()
            .user("text")
            .max_retries(1)
            .await
            .expect("valid after a re-ask");
        assert_eq!(value, Maybe::missing("None."));
        let reask = server.requests()[1]
            .json()
            .cloned()
            .expect("JSON")
            .to_string();
        assert!(reask.contains(expected), "{bad}: {reask}");
    }
    // With no retries left the mix is a validation error, not a value.
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call(TOOL, r#"{"result":null,"error":false}"#).reply());
    let error = client(&server)
        .extract::<Maybe<Person>>()
        .user("text")
        .max_retries(0)
        .await
        .expect_err("invalid");
    assert!(matches!(error, Error::Validation { .. }), "{error:?}");
}

#[tokio::test]
async fn the_value_fills_in_while_streaming() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call_fragments(
            TOOL,
            [
                r#"{"result":{"na"#,
                r#"me":"Ad"#,
                r#"a","age":3"#,
                r#"6},"error":false}"#,
            ],
        )
        .sse_reply(),
    );
    let mut stream = client(&server)
        .extract::<Maybe<Person>>()
        .user("Ada is 36.")
        .partial();
    let mut names = Vec::new();
    let mut done = None;
    while let Some(update) = stream.next().await {
        match update.expect("no error") {
            PartialUpdate::Partial(partial) => {
                let snapshot = serde_json::to_value(&*partial).expect("serializes");
                if let Some(name) = snapshot["result"]["name"].as_str() {
                    names.push(name.to_owned());
                }
            }
            PartialUpdate::Done(value) => done = Some(value.value),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(names.contains(&"Ad".to_owned()), "{names:?}");
    assert_eq!(
        done.and_then(Maybe::into_option),
        Some(Person {
            name: "Ada".into(),
            age: 36
        })
    );
}
