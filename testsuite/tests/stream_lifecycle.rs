//! Streamed extractions behave like `.await`: the same hooks, the same ledger, the
//! same decisions at the end of the answer; a restart is announced; streams are owned
//! (`Send + 'static + Unpin`) and extractions are futures.

use futures_util::StreamExt;
use instructor::Error;
use instructor::client::{HookEvent, Hooks, PartialUpdate, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::openai::ChatCompletion;
use instructor::providers::testing::{FakeProvider, Reply};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    #[garde(range(max = 150))]
    age: u8,
}

async fn setup() -> (FakeProvider, Client) {
    let server = FakeProvider::start().await;
    let provider =
        OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key("sk-test-0123456789abcdef"));
    let client = Client::new(provider)
        .with_model("gpt-4o-mini")
        .with_retry_policy(RetryPolicy {
            initial_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        });
    (server, client)
}

fn streamed(arguments: &[&str]) -> Reply {
    ChatCompletion::tool_call_fragments("User", arguments.iter().copied()).sse_reply()
}

/// Records the name of every hook event.
fn recorder() -> (Hooks, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let hooks = Hooks::new().on(move |event| {
        let name = match event {
            HookEvent::Request { attempt, .. } => format!("request {attempt}"),
            HookEvent::Response { attempt, .. } => format!("response {attempt}"),
            HookEvent::Usage { attempt, .. } => format!("usage {attempt}"),
            HookEvent::ParseError { attempt, .. } => format!("parse error {attempt}"),
            HookEvent::ValidationError { attempt, .. } => format!("validation error {attempt}"),
            HookEvent::Retry { attempt, .. } => format!("retry {attempt}"),
            HookEvent::TransportRetry { attempt, .. } => format!("transport retry {attempt}"),
            HookEvent::LastAttempt { attempt } => format!("last attempt {attempt}"),
            HookEvent::Error { .. } => "error".to_owned(),
            _ => "other".to_owned(),
        };
        sink.lock().expect("hook log").push(name);
    });
    (hooks, seen)
}

#[tokio::test(flavor = "current_thread")]
async fn a_streamed_extraction_emits_the_same_hooks_as_a_whole_one() {
    let answers = [
        r#"{"name": "Ann", "age": 200}"#,
        r#"{"name": "Ann", "age": 30}"#,
    ];
    let (server, client) = setup().await;
    for answer in answers {
        server.push(ChatCompletion::tool_call("User", answer).reply());
    }
    let (hooks, whole) = recorder();
    client
        .extract::<User>()
        .user("x")
        .hooks(hooks)
        .await
        .expect("valid after a re-ask");

    let (server, client) = setup().await;
    for answer in answers {
        server.push(streamed(&[answer]));
    }
    let (hooks, streaming) = recorder();
    let mut stream = client.extract::<User>().user("x").hooks(hooks).partial();
    while let Some(update) = stream.next().await {
        update.expect("valid after a re-ask");
    }
    let whole = whole.lock().expect("log").clone();
    assert_eq!(
        whole,
        [
            "request 1",
            "response 1",
            "usage 1",
            "validation error 1",
            "retry 1",
            "last attempt 2",
            "request 2",
            "response 2",
            "usage 2"
        ]
    );
    assert_eq!(*streaming.lock().expect("log"), whole);
}

#[tokio::test(flavor = "current_thread")]
async fn a_broken_stream_is_sent_again_and_the_stream_says_the_partials_start_over() {
    let (server, client) = setup().await;
    server.push(streamed(&[r#"{"name": "#, r#""Ann", "#, r#""age": 30}"#]).disconnect_after(3));
    server.push(streamed(&[r#"{"name": "#, r#""Ann", "#, r#""age": 30}"#]));
    let mut stream = client.extract::<User>().user("x").partial();
    let mut seen = Vec::new();
    while let Some(update) = stream.next().await {
        match update.expect("retried") {
            PartialUpdate::Partial(_) => seen.push("partial".to_owned()),
            PartialUpdate::Restarted { attempt, reason } => {
                assert!(!reason.is_empty());
                seen.push(format!("restarted {attempt}"));
            }
            PartialUpdate::Done(done) => {
                assert_eq!(done.ledger.attempts.len(), 1);
                assert_eq!(done.ledger.attempts[0].transport_retries, 1);
                seen.push("done".to_owned());
            }
            _ => {}
        }
    }
    let restart = seen
        .iter()
        .position(|s| s == "restarted 1")
        .expect("a restart notice");
    assert!(
        restart > 0,
        "partials were shown before the break: {seen:?}"
    );
    assert!(
        seen[restart + 1..].iter().any(|s| s == "partial"),
        "{seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("done"));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn a_reask_restarts_the_partials_with_the_next_attempt_number() {
    let (server, client) = setup().await;
    server.push(streamed(&[r#"{"name": "Ann", "age": 200}"#]));
    server.push(streamed(&[r#"{"name": "Ann", "age": 30}"#]));
    let mut stream = client.extract::<User>().user("x").partial();
    let mut restarts = Vec::new();
    while let Some(update) = stream.next().await {
        if let PartialUpdate::Restarted { attempt, reason } = update.expect("valid after a re-ask")
        {
            restarts.push((attempt, reason));
        }
    }
    assert_eq!(restarts.len(), 1);
    assert_eq!(restarts[0].0, 2);
    assert!(restarts[0].1.contains("age"), "{}", restarts[0].1);
}

#[tokio::test(flavor = "current_thread")]
async fn partial_reads_past_an_invalid_value_to_the_finish_reason_and_the_usage() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call_fragments("User", [r#"{"name": 12, "#, r#""age": 3"#])
            .finish_reason("length")
            .usage(100, 4000)
            .sse_reply(),
    );
    let mut stream = client.extract::<User>().user("x").partial();
    let mut error = None;
    while let Some(update) = stream.next().await {
        if let Err(e) = update {
            error = Some(e);
        }
    }
    let error = error.expect("an error");
    assert!(matches!(error, Error::Truncated { .. }), "{error:?}");
    assert_eq!(error.ledger().map(|l| l.total_usage.total()), Some(4100));
    assert_eq!(server.requests().len(), 1, "truncation is not re-asked");
}

#[tokio::test(flavor = "current_thread")]
async fn partial_honours_retry_truncated_with() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call_fragments("User", [r#"{"name": "A"#])
            .finish_reason("length")
            .sse_reply(),
    );
    server.push(streamed(&[r#"{"name": "Ann", "age": 30}"#]));
    let mut stream = client
        .extract::<User>()
        .user("x")
        .max_tokens(10)
        .retry_truncated_with(500)
        .partial();
    let mut value = None;
    while let Some(update) = stream.next().await {
        if let PartialUpdate::Done(done) = update.expect("retried with more tokens") {
            value = Some(done.value);
        }
    }
    assert_eq!(value.map(|u| u.age), Some(30));
    let requests = server.requests();
    assert_eq!(
        requests[0].json().expect("JSON")["max_completion_tokens"],
        json!(10)
    );
    assert_eq!(
        requests[1].json().expect("JSON")["max_completion_tokens"],
        json!(500)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_huge_tool_call_index_is_a_typed_error_not_an_allocation() {
    for index in ["10000000", "4000000000", "18446744073709551615"] {
        let (server, client) = setup().await;
        let event = format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":{index},\"id\":\"x\",\"type\":\"function\",\"function\":{{\"name\":\"User\",\"arguments\":\"{{\"}}}}]}},\"finish_reason\":null}}]}}\n\n"
        );
        server.push(Reply::sse([event, "data: [DONE]\n\n".to_owned()]));
        let mut stream = client.extract::<User>().user("x").partial();
        let mut error = None;
        while let Some(update) = stream.next().await {
            if let Err(e) = update {
                error = Some(e);
            }
        }
        let error = error.expect("a typed error");
        assert!(
            matches!(error, Error::Provider { .. }),
            "{index}: {error:?}"
        );
        assert_eq!(server.requests().len(), 1, "{index}: not retried");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_retry_after_past_the_deadline_ends_as_a_timeout_at_once_with_the_attempt_in_the_ledger()
{
    let (server, client) = setup().await;
    server.push(
        Reply::json(429, json!({"error": {"message": "slow down"}})).header("retry-after", "50"),
    );
    let error = client
        .extract::<User>()
        .user("x")
        .timeout(Duration::from_secs(10))
        .await
        .expect_err("the wait passes the deadline");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    let ledger = error.ledger().expect("a ledger");
    assert_eq!(ledger.attempts.len(), 1);
    assert!(
        ledger.attempts[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("429")),
        "{ledger:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_retry_after_longer_than_the_policy_honours_is_not_waited_for() {
    for header in [
        ("retry-after", "3600"),
        ("retry-after", "1e20"),
        ("retry-after-ms", "1e30"),
    ] {
        let (server, client) = setup().await;
        server.push(
            Reply::json(429, json!({"error": {"message": "slow down"}})).header(header.0, header.1),
        );
        server.push(ChatCompletion::tool_call("User", r#"{"name": "Ann", "age": 30}"#).reply());
        let error = client
            .extract::<User>()
            .user("x")
            .await
            .expect_err("a wait past what the policy honours is not retried");
        assert!(
            matches!(error, Error::Provider { .. }),
            "{header:?}: {error:?}"
        );
        assert_eq!(error.ledger().map(|l| l.attempts.len()), Some(1));
        assert_eq!(server.requests().len(), 1, "{header:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_garbage_retry_after_falls_back_to_ordinary_backoff() {
    for value in ["NaN", "-5", "inf", "soon"] {
        let (server, client) = setup().await;
        server.push(
            Reply::json(429, json!({"error": {"message": "slow down"}}))
                .header("retry-after", value),
        );
        server.push(ChatCompletion::tool_call("User", r#"{"name": "Ann", "age": 30}"#).reply());
        let user = client
            .extract::<User>()
            .user("x")
            .await
            .expect("retried after backoff");
        assert_eq!(user.age, 30, "{value}");
        assert_eq!(server.requests().len(), 2, "{value}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_timeout_of_duration_max_is_no_deadline() {
    let (server, client) = setup().await;
    server.push(ChatCompletion::tool_call("User", r#"{"name": "Ann", "age": 30}"#).reply());
    let user = client
        .extract::<User>()
        .user("x")
        .timeout(Duration::MAX)
        .await
        .expect("no panic");
    assert_eq!(user.age, 30);
    server.push(streamed(&[r#"{"name": "Ann", "age": 30}"#]));
    let mut stream = client
        .extract::<User>()
        .user("x")
        .timeout(Duration::MAX)
        .partial();
    while let Some(update) = stream.next().await {
        update.expect("no panic");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_invalid_item_says_which_item_and_why() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call_fragments(
            "User_list",
            [
                r#"{"value": [{"name": "Ann", "age": 30}, "#,
                r#"{"name": "Bo", "age": 200}]}"#,
            ],
        )
        .sse_reply(),
    );
    let items: Vec<_> = client.extract::<User>().user("x").iter().collect().await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let error = items[1].as_ref().expect_err("Bo is 200");
    let text = error.to_string();
    assert!(matches!(error, Error::Item { index: 1, .. }), "{error:?}");
    assert!(text.contains("item 1") && text.contains("age"), "{text}");
    assert!(!text.contains("0 attempt(s)"), "{text}");
}

#[tokio::test(flavor = "current_thread")]
async fn streams_are_owned_and_can_be_spawned() {
    fn owned<S: Send + Unpin + 'static>(_: &S) {}
    let (server, client) = setup().await;
    server.push(streamed(&[r#"{"name": "Ann", "age": 30}"#]));
    let mut stream = client.extract::<User>().user("x").partial();
    owned(&stream);
    drop(client);
    let task = tokio::spawn(async move {
        let mut last = None;
        while let Some(update) = stream.next().await {
            last = Some(update.is_ok());
        }
        last
    });
    assert_eq!(task.await.expect("joined"), Some(true));
}

#[tokio::test(flavor = "current_thread")]
async fn extractions_are_futures_for_try_join_all() {
    let (server, client) = setup().await;
    for age in [30, 40, 50] {
        server.push(
            ChatCompletion::tool_call("User", format!(r#"{{"name": "X", "age": {age}}}"#)).reply(),
        );
    }
    let texts = ["a", "b", "c"];
    let users = futures::future::try_join_all(
        texts
            .iter()
            .map(|t| client.extract::<User>().user(*t).send()),
    )
    .await
    .expect("all valid");
    let mut ages: Vec<u8> = users.iter().map(|u| u.age).collect();
    ages.sort_unstable();
    assert_eq!(ages, [30, 40, 50]);
}

fn mid_stream_error(kind: &str) -> Reply {
    let first = r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"User","arguments":"{\"name\": "}}]},"finish_reason":null}]}"#;
    let error =
        format!(r#"data: {{"error": {{"message": "something went wrong", "type": "{kind}"}}}}"#);
    Reply::sse([format!("{first}\n\n"), format!("{error}\n\n")])
}

async fn run_partial(client: &Client) -> (Vec<String>, Option<Error>) {
    let mut stream = client.extract::<User>().user("x").partial();
    let mut seen = Vec::new();
    let mut error = None;
    while let Some(update) = stream.next().await {
        match update {
            Ok(PartialUpdate::Partial(_)) => seen.push("partial".to_owned()),
            Ok(PartialUpdate::Restarted { attempt, .. }) => {
                seen.push(format!("restarted {attempt}"))
            }
            Ok(PartialUpdate::Done(_)) => seen.push("done".to_owned()),
            Ok(_) => {}
            Err(e) => error = Some(e),
        }
    }
    (seen, error)
}

#[tokio::test(flavor = "current_thread")]
async fn a_server_error_mid_stream_is_retried_and_announced() {
    let (server, client) = setup().await;
    server.push(mid_stream_error("server_error"));
    server.push(streamed(&[r#"{"name": "Ann", "age": 30}"#]));
    let (seen, error) = run_partial(&client).await;
    assert!(error.is_none(), "{error:?}");
    assert!(seen.contains(&"restarted 1".to_owned()), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("done"));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn an_invalid_request_mid_stream_is_not_retried() {
    let (server, client) = setup().await;
    server.push(mid_stream_error("invalid_request_error"));
    server.push(streamed(&[r#"{"name": "Ann", "age": 30}"#]));
    let (seen, error) = run_partial(&client).await;
    let error = error.expect("an error");
    assert!(matches!(error, Error::Provider { .. }), "{error:?}");
    assert!(!seen.iter().any(|s| s.starts_with("restarted")), "{seen:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_captive_portal_answering_a_stream_is_a_typed_error_not_retried() {
    let (server, client) = setup().await;
    server.push(
        Reply::status(200)
            .header("content-type", "text/html")
            .body("<html><body>Please log in to the hotel Wi-Fi</body></html>"),
    );
    let (_, error) = run_partial(&client).await;
    let error = error.expect("an error");
    assert!(matches!(error, Error::Provider { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_whole_json_answer_to_a_streamed_request_is_read_as_the_answer() {
    let (server, client) = setup().await;
    server.push(ChatCompletion::tool_call("User", r#"{"name": "Ann", "age": 30}"#).reply());
    let (seen, error) = run_partial(&client).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(seen.last().map(String::as_str), Some("done"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_connection_ends_with_the_url_it_tried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let provider = OpenAi::new(
        OpenAiConfig::new(format!("http://127.0.0.1:{port}/v1")).with_api_key("sk-test-0123456789"),
    );
    let client = Client::new(provider).with_model("llama3.1");
    let error = client
        .extract::<User>()
        .user("x")
        .await
        .expect_err("nothing listens");
    let text = error.to_string();
    assert!(matches!(error, Error::Provider { .. }), "{error:?}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    // The default policy: the first try and two retries.
    assert_eq!(
        error.ledger().map(|l| l.attempts[0].transport_retries),
        Some(2)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn items_after_one_the_item_reader_cannot_follow_come_from_the_whole_answer() {
    // A lone surrogate in an ignored field: serde_json reads it, the item reader stops.
    let answer = r#"{"value": [{"name": "Ann", "age": 30}, {"name": "Bo", "age": 40, "note": "\ud800"}, {"name": "Cy", "age": 50}]}"#;
    let (server, client) = setup().await;
    server.push(ChatCompletion::tool_call("User_list", answer).reply());
    let whole: Vec<User> = client
        .extract::<Vec<User>>()
        .user("x")
        .await
        .expect("serde reads it");
    let (server, client) = setup().await;
    let pieces: Vec<String> = answer
        .as_bytes()
        .chunks(11)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    server.push(ChatCompletion::tool_call_fragments("User_list", pieces).sse_reply());
    let items: Vec<User> = client
        .extract::<User>()
        .user("x")
        .iter()
        .map(|item| item.expect("every item valid"))
        .collect()
        .await;
    assert_eq!(items, whole);
    assert_eq!(items.len(), 3);
}

/// What a partial stream showed, in order: `name` of each partial, `restarted N`, and
/// `done NAME AGE`.
async fn shown(mut stream: instructor::client::PartialUpdates<User>) -> Result<Vec<String>, Error> {
    let mut seen = Vec::new();
    while let Some(update) = stream.next().await {
        match update? {
            PartialUpdate::Partial(partial) => {
                seen.push(partial.name.clone().unwrap_or_default());
            }
            PartialUpdate::Restarted { attempt, .. } => seen.push(format!("restarted {attempt}")),
            PartialUpdate::Done(done) => {
                seen.push(format!("done {} {}", done.value.name, done.value.age));
            }
            _ => {}
        }
    }
    Ok(seen)
}

/// What `.partial_throttled(interval)` showed of the next answer.
async fn throttled(client: &Client, interval: Duration) -> Result<Vec<String>, Error> {
    shown(
        client
            .extract::<User>()
            .user("x")
            .partial_throttled(interval),
    )
    .await
}

const NAME_IN_PIECES: [&str; 5] = [r#"{"name": "A"#, "B", "C", "D", r#"", "age": 30}"#];

#[tokio::test(flavor = "current_thread")]
async fn a_throttled_stream_shows_the_first_change_at_once_and_holds_the_rest_of_its_window() {
    let (server, client) = setup().await;
    server.push(streamed(&NAME_IN_PIECES));
    server.push(streamed(&NAME_IN_PIECES));
    let every = shown(client.extract::<User>().user("x").partial())
        .await
        .expect("valid");
    assert_eq!(every, ["A", "AB", "ABC", "ABCD", "ABCD", "done ABCD 30"]);
    // A window longer than the answer: the first change, then only the value.
    let long = throttled(&client, Duration::from_secs(3600))
        .await
        .expect("valid");
    assert_eq!(long, ["A", "done ABCD 30"]);
    // A window too long for the clock is no panic, only no partial after the first.
    server.push(streamed(&NAME_IN_PIECES));
    let forever = throttled(&client, Duration::MAX).await.expect("valid");
    assert_eq!(forever, ["A", "done ABCD 30"]);
    // No window: every change, as `.partial()`.
    server.push(streamed(&NAME_IN_PIECES));
    let unthrottled = throttled(&client, Duration::ZERO).await.expect("valid");
    assert_eq!(unthrottled, every);
}

#[tokio::test(flavor = "current_thread")]
async fn a_change_held_by_the_throttle_is_shown_when_its_window_ends_without_waiting_for_more_text()
{
    // One event every 800 ms, a window of 1200 ms: "AB" arrives inside the window "A"
    // opened and "ABC" only after it ends. Shown only when the next change came, "AB"
    // would never appear ("ABC" would be the next partial); the window's timer shows it
    // while the stream waits for "C".
    let (server, client) = setup().await;
    server.push(streamed(&NAME_IN_PIECES).delay_between(Duration::from_millis(800)));
    let seen = throttled(&client, Duration::from_millis(1200))
        .await
        .expect("valid");
    assert_eq!(seen.first().map(String::as_str), Some("A"), "{seen:?}");
    assert!(seen.iter().any(|name| name == "AB"), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("done ABCD 30"));
    // Every partial is a state the answer passed through, in order.
    let states = ["A", "AB", "ABC", "ABCD"];
    let partials: Vec<usize> = seen[..seen.len() - 1]
        .iter()
        .map(|name| states.iter().position(|s| s == name).expect("a real state"))
        .collect();
    assert!(partials.is_sorted(), "{seen:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_throttled_stream_passes_restarts_at_once_and_shows_the_new_answer_from_its_first_change()
{
    let (server, client) = setup().await;
    let invalid = [r#"{"name": "A"#, "B", r#"", "age": 200}"#];
    server.push(streamed(&invalid));
    server.push(streamed(&NAME_IN_PIECES));
    let seen = throttled(&client, Duration::from_secs(3600))
        .await
        .expect("valid after a re-ask");
    assert_eq!(seen, ["A", "restarted 2", "A", "done ABCD 30"]);

    // The same failure as `.partial()`'s (and so `.await`'s) when it stays invalid.
    let (server, client) = setup().await;
    server.push(streamed(&invalid));
    let unthrottled = shown(client.extract::<User>().user("x").max_retries(0).partial())
        .await
        .expect_err("invalid");
    server.push(streamed(&invalid));
    let streamed_error = shown(
        client
            .extract::<User>()
            .user("x")
            .max_retries(0)
            .partial_throttled(Duration::from_secs(3600)),
    )
    .await
    .expect_err("invalid");
    assert!(streamed_error.to_string().contains("must be at most 150"));
    assert_eq!(streamed_error.to_string(), unthrottled.to_string());
}
