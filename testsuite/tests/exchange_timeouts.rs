//! The provider's timeout (`OpenAiConfig::timeout`) as instructor's client keeps it:
//! a whole answer is bounded from connecting to its last byte, however steadily it
//! arrives; a streamed one is bounded per wait for more bytes, however long it lasts.
//! Every case runs through an extraction against the fake provider over real HTTP.

use futures_util::StreamExt;
use instructor::Error;
use instructor::chat::ProviderError;
use instructor::client::{PartialUpdate, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply, openai::ChatCompletion};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    age: u8,
}

const ANSWER: &str = r#"{"name": "Ann", "age": 30}"#;

/// A client whose provider allows `timeout` per exchange, without transport retries.
async fn client(timeout: Duration) -> (FakeProvider, Client) {
    let server = FakeProvider::start().await;
    let provider = OpenAi::new(
        OpenAiConfig::new(server.base_url())
            .with_api_key("sk-test-0123456789abcdef")
            .with_timeout(Some(timeout)),
    );
    let client = Client::new(provider)
        .with_model("gpt-4o-mini")
        .with_retry_policy(RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        });
    (server, client)
}

/// The whole answer's body in `parts` pieces, as one chunk each.
fn whole_in_pieces(parts: usize) -> Reply {
    let body = ChatCompletion::tool_call("User", ANSWER)
        .reply()
        .chunks()
        .concat();
    let size = body.len().div_ceil(parts);
    let pieces: Vec<Vec<u8>> = body.chunks(size).map(<[u8]>::to_vec).collect();
    Reply::chunked(200, pieces).header("content-type", "application/json")
}

fn is_transport_timeout(error: &Error) -> bool {
    matches!(error, Error::Provider { error, .. }
        if matches!(&**error, ProviderError::Transport { message } if message.contains("timed out")))
}

#[tokio::test(flavor = "current_thread")]
async fn a_whole_answer_within_the_timeout_is_read() {
    let (server, client) = client(Duration::from_secs(5)).await;
    server.push(whole_in_pieces(4).delay_between(Duration::from_millis(20)));
    let user = client.extract::<User>().user("Ann is 30").await;
    assert_eq!(
        user.expect("the value"),
        User {
            name: "Ann".into(),
            age: 30
        }
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_whole_answer_arriving_steadily_past_the_timeout_is_a_transport_timeout() {
    // Each piece comes well within the timeout; all of them together do not.
    let (server, client) = client(Duration::from_millis(400)).await;
    server.push(whole_in_pieces(4).delay_between(Duration::from_millis(200)));
    let error = client
        .extract::<User>()
        .user("Ann is 30")
        .await
        .expect_err("past the timeout");
    assert!(is_transport_timeout(&error), "{error:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_whole_answer_whose_head_never_comes_is_a_transport_timeout() {
    let (server, client) = client(Duration::from_millis(300)).await;
    server.push(Reply::stall());
    let error = client
        .extract::<User>()
        .user("Ann is 30")
        .await
        .expect_err("past the timeout");
    assert!(is_transport_timeout(&error), "{error:?}");
}

/// The last item of a `.partial()` stream: the value or the error.
async fn partial(client: &Client) -> Result<User, Error> {
    let mut stream = client.extract::<User>().user("Ann is 30").partial();
    let mut last = None;
    while let Some(update) = stream.next().await {
        match update {
            Ok(PartialUpdate::Done(done)) => last = Some(Ok(done.value)),
            Ok(_) => {}
            Err(error) => last = Some(Err(error)),
        }
    }
    last.expect("a last item")
}

#[tokio::test(flavor = "current_thread")]
async fn a_stream_longer_than_the_timeout_is_read_while_bytes_keep_coming() {
    // About 12 events 100 ms apart: over a second in all, never 400 ms of silence.
    let (server, client) = client(Duration::from_millis(400)).await;
    let answer =
        ChatCompletion::tool_call_fragments("User", ["{\"name\": ", "\"Ann\", ", "\"age\": 30}"]);
    server.push(answer.sse_reply().delay_between(Duration::from_millis(100)));
    assert_eq!(
        partial(&client).await.expect("the value"),
        User {
            name: "Ann".into(),
            age: 30
        }
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_stream_that_falls_silent_past_the_timeout_is_a_transport_failure() {
    let (server, client) = client(Duration::from_millis(300)).await;
    let answer =
        ChatCompletion::tool_call_fragments("User", ["{\"name\": ", "\"Ann\", ", "\"age\": 30}"]);
    server.push(
        answer
            .sse_reply()
            .delay_between(Duration::from_millis(1200)),
    );
    let error = partial(&client)
        .await
        .expect_err("a silence past the timeout");
    assert!(is_transport_timeout(&error), "{error:?}");
}
