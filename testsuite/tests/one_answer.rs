//! One answer, three ways: every scenario runs through `.await`, `.partial()` and
//! `.iter()` over real HTTP to the fake provider (the whole answer as one JSON body,
//! the streamed one as SSE in small fragments), and the outcomes must agree: the same
//! value, or the same kind of error, the same number of requests, the same tokens.

use futures_util::StreamExt;
use instructor::client::{Extraction, PartialUpdate, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply};
use instructor::{Error, Mode};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    #[garde(range(max = 150))]
    age: u8,
}

/// What the model says in one answer.
#[derive(Clone, Default)]
struct Said {
    calls: Vec<(&'static str, String)>,
    text: Option<String>,
    refusal: Option<String>,
    finish: &'static str,
    usage: (u64, u64),
    /// An HTTP error instead of an answer.
    status: Option<u16>,
    /// Its `retry-after` header.
    retry_after: Option<&'static str>,
}

fn call(arguments: &str) -> Said {
    Said {
        calls: vec![("User_list", arguments.to_owned())],
        finish: "tool_calls",
        usage: (10, 5),
        ..Said::default()
    }
}

fn users(list: &str) -> Said {
    call(&format!("{{\"value\": {list}}}"))
}

impl Said {
    fn finish(mut self, finish: &'static str) -> Self {
        self.finish = finish;
        self
    }

    fn usage(mut self, input: u64, output: u64) -> Self {
        self.usage = (input, output);
        self
    }

    fn and_call(mut self, name: &'static str, arguments: &str) -> Self {
        self.calls.push((name, arguments.to_owned()));
        self
    }

    fn whole(&self) -> Reply {
        if let Some(status) = self.status {
            let reply = Reply::json(
                status,
                json!({"error": {"message": "no", "type": "server_error"}}),
            );
            return match self.retry_after {
                Some(wait) => reply.header("retry-after", wait),
                None => reply,
            };
        }
        let calls: Vec<Value> = self
            .calls
            .iter()
            .enumerate()
            .map(|(i, (name, args))| {
                json!({"id": format!("call_{i}"), "type": "function",
                       "function": {"name": name, "arguments": args}})
            })
            .collect();
        let mut message =
            json!({"role": "assistant", "content": self.text, "refusal": self.refusal});
        if !calls.is_empty() {
            message["tool_calls"] = Value::Array(calls);
        }
        Reply::json(
            200,
            json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": message, "finish_reason": self.finish}],
                "usage": {"prompt_tokens": self.usage.0, "completion_tokens": self.usage.1,
                          "total_tokens": self.usage.0.saturating_add(self.usage.1)}
            }),
        )
    }

    fn streamed(&self) -> Reply {
        if self.status.is_some() {
            return self.whole();
        }
        let chunk = |delta: Value, finish: Option<&str>| {
            let body = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
            format!("data: {body}\n\n")
        };
        let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
        for piece in fragments(self.text.as_deref().unwrap_or_default()) {
            events.push(chunk(json!({"content": piece}), None));
        }
        for piece in fragments(self.refusal.as_deref().unwrap_or_default()) {
            events.push(chunk(json!({"refusal": piece}), None));
        }
        for (i, (name, args)) in self.calls.iter().enumerate() {
            events.push(chunk(
                json!({"tool_calls": [{"index": i, "id": format!("call_{i}"), "type": "function",
                    "function": {"name": name, "arguments": ""}}]}),
                None,
            ));
            for piece in fragments(args) {
                events.push(chunk(
                    json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}),
                    None,
                ));
            }
        }
        events.push(chunk(json!({}), Some(self.finish)));
        let usage = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-4o-mini", "choices": [],
            "usage": {"prompt_tokens": self.usage.0, "completion_tokens": self.usage.1,
                      "total_tokens": self.usage.0.saturating_add(self.usage.1)}});
        events.push(format!("data: {usage}\n\n"));
        events.push("data: [DONE]\n\n".to_owned());
        Reply::sse(events)
    }
}

/// 7-character fragments, as a model streams them.
fn fragments(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(7).map(|c| c.iter().collect()).collect()
}

struct Scenario {
    name: &'static str,
    answers: Vec<Said>,
    max_retries: u32,
    budget: Option<u64>,
    retry_truncated_with: Option<u32>,
}

fn scenario(name: &'static str, answers: Vec<Said>) -> Scenario {
    Scenario {
        name,
        answers,
        max_retries: 0,
        budget: None,
        retry_truncated_with: None,
    }
}

/// What came of one run, comparable across the three ways.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Value(Vec<User>),
    /// The error's kind, and for an invalid item its index.
    Failed(&'static str),
}

#[derive(Debug, PartialEq)]
struct Run {
    outcome: Outcome,
    requests: usize,
    tokens: Option<u64>,
}

fn kind(error: &Error) -> &'static str {
    match error {
        Error::Provider { .. } => "provider",
        Error::Timeout { .. } => "timeout",
        Error::Truncated { .. } => "truncated",
        Error::Refusal { .. } => "refusal",
        Error::ContentFilter { .. } => "content filter",
        Error::Parse { .. } => "parse",
        Error::Validation { .. } => "validation",
        Error::BudgetExhausted { .. } => "budget",
        Error::InvalidRequest { .. } => "invalid request",
        Error::UnsupportedMode { .. } => "unsupported mode",
        Error::Item { .. } => "item",
        _ => "other",
    }
}

async fn client(scenario: &Scenario, stream: bool) -> (FakeProvider, Client) {
    let server = FakeProvider::start().await;
    for said in &scenario.answers {
        server.push(if stream {
            said.streamed()
        } else {
            said.whole()
        });
    }
    let provider =
        OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key("sk-test-0123456789abcdef"));
    let client = Client::new(provider)
        .with_model("gpt-4o-mini")
        .with_max_retries(scenario.max_retries)
        .with_timeout(Duration::from_secs(20))
        .with_retry_policy(RetryPolicy {
            initial_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        });
    (server, client)
}

fn configure<T: Extract>(scenario: &Scenario, extraction: Extraction<T>) -> Extraction<T> {
    let mut extraction = extraction.user("Ann is 30, Bo is 40");
    if let Some(budget) = scenario.budget {
        extraction = extraction.max_total_tokens(budget);
    }
    if let Some(larger) = scenario.retry_truncated_with {
        extraction = extraction.max_tokens(100).retry_truncated_with(larger);
    }
    extraction
}

async fn by_await(scenario: &Scenario) -> Run {
    let (server, client) = client(scenario, false).await;
    let result = configure(scenario, client.extract::<Vec<User>>())
        .with_completion()
        .await;
    let tokens = match &result {
        Ok(done) => Some(done.ledger.total_usage.total()),
        Err(error) => error.ledger().map(|l| l.total_usage.total()),
    };
    Run {
        outcome: match result {
            Ok(done) => Outcome::Value(done.value),
            Err(error) => Outcome::Failed(kind(&error)),
        },
        requests: server.requests().len(),
        tokens,
    }
}

async fn by_partial(scenario: &Scenario) -> Run {
    let (server, client) = client(scenario, true).await;
    let mut stream = configure(scenario, client.extract::<Vec<User>>()).partial();
    let mut outcome = None;
    let mut tokens = None;
    while let Some(update) = stream.next().await {
        match update {
            Ok(PartialUpdate::Done(done)) => {
                tokens = Some(done.ledger.total_usage.total());
                outcome = Some(Outcome::Value(done.value));
            }
            Ok(_) => {}
            Err(error) => {
                tokens = error.ledger().map(|l| l.total_usage.total());
                outcome = Some(Outcome::Failed(kind(&error)));
            }
        }
    }
    Run {
        outcome: outcome.expect("the stream ends with a value or an error"),
        requests: server.requests().len(),
        tokens,
    }
}

/// `.iter()`: the items, or the last error; an invalid item counts as that item's
/// validation failure (the other items still arrive).
async fn by_iter(scenario: &Scenario) -> Run {
    let (server, client) = client(scenario, true).await;
    let mut stream = configure(scenario, client.extract::<User>()).iter();
    let mut items = Vec::new();
    let mut failed = None;
    let mut tokens = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(user) => items.push(user),
            Err(Error::Item { .. }) => failed = Some("item"),
            Err(error) => {
                tokens = error.ledger().map(|l| l.total_usage.total());
                failed = Some(kind(&error));
            }
        }
    }
    Run {
        outcome: match failed {
            Some(kind) => Outcome::Failed(kind),
            None => Outcome::Value(items),
        },
        requests: server.requests().len(),
        tokens,
    }
}

fn ann_and_bo() -> Vec<User> {
    vec![
        User {
            name: "Ann".into(),
            age: 30,
        },
        User {
            name: "Bo".into(),
            age: 40,
        },
    ]
}

const GOOD: &str = r#"[{"name": "Ann", "age": 30}, {"name": "Bo", "age": 40}]"#;

fn scenarios() -> Vec<Scenario> {
    vec![
        scenario("a valid answer", vec![users(GOOD)]),
        Scenario {
            max_retries: 1,
            ..scenario(
                "invalid JSON, re-asked, then valid",
                vec![call("{\"value\": [{\"name\": "), users(GOOD)],
            )
        },
        scenario(
            "a wrong type, no retries left",
            vec![users(r#"[{"name": "Ann", "age": "thirty"}]"#)],
        ),
        scenario(
            "an item failing validation",
            vec![users(
                r#"[{"name": "Ann", "age": 30}, {"name": "Bo", "age": 200}]"#,
            )],
        ),
        scenario(
            "cut at the token limit inside a value",
            vec![call(r#"{"value": [{"name": "Ann", "age": 3"#).finish("length")],
        ),
        Scenario {
            retry_truncated_with: Some(4000),
            ..scenario(
                "cut, then asked again with more tokens",
                vec![call(r#"{"value": [{"na"#).finish("length"), users(GOOD)],
            )
        },
        scenario(
            "the content filter",
            vec![call(r#"{"value": ["#).finish("content_filter")],
        ),
        scenario(
            "a refusal",
            vec![Said {
                refusal: Some("I can't help with that.".into()),
                finish: "stop",
                usage: (10, 5),
                ..Said::default()
            }],
        ),
        scenario(
            "two tool calls where one was asked for",
            vec![users(GOOD).and_call("User_list", r#"{"value": []}"#)],
        ),
        scenario(
            "a call of a tool never offered",
            vec![Said {
                calls: vec![("delete_everything", "{}".into())],
                finish: "tool_calls",
                usage: (10, 5),
                ..Said::default()
            }],
        ),
        Scenario {
            max_retries: 1,
            ..scenario(
                "a tool never offered, re-asked, then valid",
                vec![
                    Said {
                        calls: vec![("Search", "{\"value\": []}".into())],
                        finish: "tool_calls",
                        usage: (10, 5),
                        ..Said::default()
                    },
                    users(GOOD),
                ],
            )
        },
        scenario(
            "prose instead of a call",
            vec![Said {
                text: Some("Ann is 30.".into()),
                finish: "stop",
                usage: (10, 5),
                ..Said::default()
            }],
        ),
        scenario(
            "a server error, then valid",
            vec![
                Said {
                    status: Some(500),
                    ..Said::default()
                },
                users(GOOD),
            ],
        ),
        scenario(
            "an invalid request",
            vec![Said {
                status: Some(400),
                ..Said::default()
            }],
        ),
        scenario(
            "a rate limit asking for a wait past the deadline",
            vec![
                Said {
                    status: Some(429),
                    retry_after: Some("50"),
                    ..Said::default()
                },
                users(GOOD),
            ],
        ),
        scenario(
            "a rate limit asking for an absurd wait",
            vec![
                Said {
                    status: Some(429),
                    retry_after: Some("1e20"),
                    ..Said::default()
                },
                users(GOOD),
            ],
        ),
        Scenario {
            max_retries: 3,
            budget: Some(100),
            ..scenario(
                "an invalid answer that spends the budget",
                vec![call("not json").usage(90, 20), users(GOOD)],
            )
        },
        Scenario {
            max_retries: 3,
            budget: Some(1_000_000),
            ..scenario(
                "usage near u64::MAX saturates and ends the budget",
                vec![
                    call("not json").usage(u64::MAX - 1, u64::MAX - 1),
                    users(GOOD),
                ],
            )
        },
    ]
}

#[tokio::test(flavor = "current_thread")]
async fn every_scenario_gives_the_same_outcome_by_await_partial_and_iter() {
    let mut disagreements = Vec::new();
    for scenario in scenarios() {
        let whole = by_await(&scenario).await;
        let partial = by_partial(&scenario).await;
        let items = by_iter(&scenario).await;
        if partial != whole {
            disagreements.push(format!(
                "{}: .await {whole:?} / .partial() {partial:?}",
                scenario.name
            ));
        }
        // `.iter()` reports an invalid item as that item's error (a parse or a
        // validation failure of the list as a whole), and the tokens only on an
        // error that ends it.
        let per_item = items.outcome == Outcome::Failed("item")
            && matches!(whole.outcome, Outcome::Failed("parse" | "validation"));
        let iter_comparable = Run {
            outcome: if per_item {
                whole.outcome.clone()
            } else {
                items.outcome.clone()
            },
            tokens: if per_item || matches!(items.outcome, Outcome::Value(_)) {
                whole.tokens
            } else {
                items.tokens
            },
            ..items
        };
        if iter_comparable != whole {
            disagreements.push(format!(
                "{}: .await {whole:?} / .iter() {iter_comparable:?}",
                scenario.name
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[tokio::test(flavor = "current_thread")]
async fn the_table_expects_what_await_gives() {
    let expected: &[(&str, Outcome, usize)] = &[
        ("a valid answer", Outcome::Value(ann_and_bo()), 1),
        (
            "invalid JSON, re-asked, then valid",
            Outcome::Value(ann_and_bo()),
            2,
        ),
        ("a wrong type, no retries left", Outcome::Failed("parse"), 1),
        (
            "an item failing validation",
            Outcome::Failed("validation"),
            1,
        ),
        (
            "cut at the token limit inside a value",
            Outcome::Failed("truncated"),
            1,
        ),
        (
            "cut, then asked again with more tokens",
            Outcome::Value(ann_and_bo()),
            2,
        ),
        ("the content filter", Outcome::Failed("content filter"), 1),
        ("a refusal", Outcome::Failed("refusal"), 1),
        (
            "two tool calls where one was asked for",
            Outcome::Failed("parse"),
            1,
        ),
        (
            "a call of a tool never offered",
            Outcome::Failed("parse"),
            1,
        ),
        (
            "a tool never offered, re-asked, then valid",
            Outcome::Value(ann_and_bo()),
            2,
        ),
        ("prose instead of a call", Outcome::Failed("parse"), 1),
        (
            "a server error, then valid",
            Outcome::Value(ann_and_bo()),
            2,
        ),
        ("an invalid request", Outcome::Failed("provider"), 1),
        (
            "a rate limit asking for a wait past the deadline",
            Outcome::Failed("timeout"),
            1,
        ),
        (
            "a rate limit asking for an absurd wait",
            Outcome::Failed("provider"),
            1,
        ),
        (
            "an invalid answer that spends the budget",
            Outcome::Failed("budget"),
            1,
        ),
        (
            "usage near u64::MAX saturates and ends the budget",
            Outcome::Failed("budget"),
            1,
        ),
    ];
    let scenarios = scenarios();
    assert_eq!(scenarios.len(), expected.len());
    for (scenario, (name, outcome, requests)) in scenarios.iter().zip(expected) {
        assert_eq!(scenario.name, *name);
        let run = by_await(scenario).await;
        assert_eq!((&run.outcome, run.requests), (outcome, *requests), "{name}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn saturated_usage_is_reported_as_the_largest_total_not_wrapped() {
    let scenario = Scenario {
        max_retries: 0,
        ..scenario("huge usage", vec![users(GOOD).usage(u64::MAX, u64::MAX)])
    };
    let run = by_await(&scenario).await;
    assert_eq!(run.tokens, Some(u64::MAX));
    assert_eq!(by_partial(&scenario).await.tokens, Some(u64::MAX));
}

#[tokio::test(flavor = "current_thread")]
async fn a_mode_the_dialect_cannot_express_is_an_invalid_request_with_nothing_sent() {
    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Tagged {
        tags: std::collections::HashMap<String, String>,
    }
    let server = FakeProvider::start().await;
    let client = Client::new(OpenAi::new(
        OpenAiConfig::new(server.base_url()).with_api_key("sk-x"),
    ))
    .with_model("gpt-4o-mini");
    let error = client
        .extract::<Tagged>()
        .mode(Mode::ToolsStrict)
        .user("x")
        .await
        .expect_err("a map has no strict schema");
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    assert!(error.ledger().is_none());
    assert!(server.requests().is_empty());
}

/// A lone surrogate escape (`\ud800`, not text in any encoding) in a field of the
/// envelope that nobody reads. The same bytes reach every way of asking: the whole
/// answer with the field next to `choices`, the streamed one with it in every chunk.
const LONE_SURROGATE: &str = r#""x_trace":"\ud800","#;

/// `said`'s whole answer with the lone surrogate in its envelope.
fn whole_with_surrogate(said: &Said) -> Reply {
    let body = String::from_utf8(said.whole().chunks().concat()).expect("JSON text");
    let body = body.replacen('{', &format!("{{{LONE_SURROGATE}"), 1);
    Reply::status(200)
        .header("content-type", "application/json")
        .body(body)
}

/// `said`'s streamed answer with the lone surrogate in the envelope of every chunk.
fn streamed_with_surrogate(said: &Said) -> Reply {
    let events = said
        .streamed()
        .chunks()
        .into_iter()
        .map(|chunk| {
            let chunk = String::from_utf8(chunk).expect("SSE text");
            chunk.replace("data: {", &format!("data: {{{LONE_SURROGATE}"))
        })
        .collect::<Vec<_>>();
    Reply::sse(events)
}

async fn surrogate_client(reply: Reply) -> (FakeProvider, Client) {
    let server = FakeProvider::start().await;
    server.push(reply);
    let client = Client::new(OpenAi::new(
        OpenAiConfig::new(server.base_url()).with_api_key("sk-test-0123456789abcdef"),
    ))
    .with_model("gpt-4o-mini")
    .with_max_retries(0);
    (server, client)
}

/// What each way of asking makes of an answer with a lone surrogate in its envelope:
/// the value, or the error's kind.
async fn surrogate_outcomes(said: &Said) -> Vec<(&'static str, Result<Vec<User>, String>)> {
    let outcome = |result: Result<Vec<User>, Error>| {
        result.map_err(|error| format!("{}: {error}", kind(&error)))
    };
    let mut outcomes = Vec::new();

    let (_server, client) = surrogate_client(whole_with_surrogate(said)).await;
    let result = client.extract::<Vec<User>>().user("Ann and Bo").await;
    outcomes.push((".await", outcome(result)));

    let (_server, client) = surrogate_client(whole_with_surrogate(said)).await;
    let result = client
        .extract::<Vec<User>>()
        .user("Ann and Bo")
        .with_completion()
        .await
        .map(|done| done.value);
    outcomes.push((".with_completion()", outcome(result)));

    let (_server, client) = surrogate_client(streamed_with_surrogate(said)).await;
    let mut stream = client.extract::<Vec<User>>().user("Ann and Bo").partial();
    let mut last = None;
    while let Some(update) = stream.next().await {
        match update {
            Ok(PartialUpdate::Done(done)) => last = Some(Ok(done.value)),
            Ok(_) => {}
            Err(error) => last = Some(Err(error)),
        }
    }
    outcomes.push((".partial()", outcome(last.expect("a last item"))));

    // A server that ignores `stream: true` and answers the stream with the whole body.
    let (_server, client) = surrogate_client(whole_with_surrogate(said)).await;
    let mut stream = client.extract::<Vec<User>>().user("Ann and Bo").partial();
    let mut last = None;
    while let Some(update) = stream.next().await {
        match update {
            Ok(PartialUpdate::Done(done)) => last = Some(Ok(done.value)),
            Ok(_) => {}
            Err(error) => last = Some(Err(error)),
        }
    }
    outcomes.push((
        ".partial() of a whole body",
        outcome(last.expect("a last item")),
    ));

    let (_server, client) = surrogate_client(streamed_with_surrogate(said)).await;
    let mut stream = client.extract::<User>().user("Ann and Bo").iter();
    let mut items = Vec::new();
    let mut failed = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(user) => items.push(user),
            Err(error) => failed = Some(error),
        }
    }
    outcomes.push((
        ".iter()",
        match failed {
            Some(error) => outcome(Err(error)),
            None => Ok(items),
        },
    ));
    outcomes
}

/// The whole answer read without its raw body (`.await`) accepted it, read with it
/// (`.with_completion()`, or any hook) refused it as "not JSON", and streamed it was
/// accepted: now every way gives the value, and the raw body keeps the escape as
/// U+FFFD.
#[tokio::test(flavor = "current_thread")]
async fn a_lone_surrogate_in_an_unread_envelope_field_gives_the_same_outcome_every_way() {
    let outcomes = surrogate_outcomes(&users(GOOD)).await;
    assert_eq!(outcomes.len(), 5);
    for (way, outcome) in &outcomes {
        assert_eq!(outcome, &Ok(ann_and_bo()), "{way}");
    }
    let (_server, client) = surrogate_client(whole_with_surrogate(&users(GOOD))).await;
    let done = client
        .extract::<Vec<User>>()
        .user("Ann and Bo")
        .with_completion()
        .await
        .expect("the value");
    assert_eq!(done.response.raw["x_trace"], "\u{fffd}");
    assert_eq!(done.response.raw["id"], "chatcmpl-1");
}

/// The same answer with the lone surrogate where it is read (in the model's arguments):
/// not text, so every way refuses it alike.
#[tokio::test(flavor = "current_thread")]
async fn a_lone_surrogate_in_the_answer_itself_fails_the_same_way_every_way() {
    let said = users(r#"[{"name": "Ann\ud800", "age": 30}]"#);
    let outcomes = surrogate_outcomes(&said).await;
    let kinds: Vec<(&str, Option<&str>)> = outcomes
        .iter()
        .map(|(way, outcome)| {
            (
                *way,
                outcome
                    .as_ref()
                    .err()
                    .and_then(|error| error.split(':').next()),
            )
        })
        .collect();
    assert!(
        kinds
            .iter()
            .all(|(_, kind)| *kind == kinds[0].1 && kind.is_some()),
        "{kinds:?}"
    );
}
