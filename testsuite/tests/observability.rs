//! Spans carry the OpenTelemetry GenAI attribute names, and no API key reaches a span,
//! an event, a hook payload, an error or a `Debug` output.

use instructor::client::{Hooks, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::openai::ChatCompletion;
use instructor::providers::testing::{FakeProvider, Reply};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

const KEY: &str = "sk-live-very-secret-0123456789abcdef";

#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct User {
    name: String,
    #[garde(range(max = 150))]
    age: u8,
}

/// Writes every span's name and fields, and every event, to one string.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, ctx: LayerContext<'_, S>) {
        let parent = match attrs.parent() {
            Some(id) => ctx.span(id).map(|span| span.name()),
            None if attrs.is_contextual() => ctx.lookup_current().map(|span| span.name()),
            None => None,
        };
        let mut out = self.0.lock().expect("lock");
        let _ = write!(out, "\nspan {}:", attrs.metadata().name());
        attrs.record(&mut Fields(&mut out));
        if let Some(parent) = parent {
            let _ = write!(out, " parent={parent}");
        }
    }

    fn on_record(&self, _: &Id, values: &Record<'_>, _: LayerContext<'_, S>) {
        let mut out = self.0.lock().expect("lock");
        out.push_str("\nrecord:");
        values.record(&mut Fields(&mut out));
    }

    fn on_event(&self, event: &Event<'_>, _: LayerContext<'_, S>) {
        let mut out = self.0.lock().expect("lock");
        out.push_str("\nevent:");
        event.record(&mut Fields(&mut out));
    }
}

/// One test in this binary: tracing caches per call site whether anyone listens, so a
/// second test running without the subscriber would hide spans from this one.
#[tokio::test(flavor = "current_thread")]
async fn spans_use_gen_ai_names_and_nothing_leaks_the_key() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let server = FakeProvider::start().await;
    // A 401 echoing the key (some servers do), a 500, then an invalid and a valid answer.
    server.push(Reply::json(
        500,
        serde_json::json!({"error": {"message": format!("bad key {KEY}")}}),
    ));
    server.push(ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 200}"#).reply());
    server.push(ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 25}"#).reply());
    let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key(KEY));
    let hook_log: Arc<Mutex<String>> = Arc::default();
    let log = hook_log.clone();
    let client = Client::new(provider)
        .with_model("gpt-4o-mini")
        .with_retry_policy(RetryPolicy {
            initial_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        })
        .with_hooks(Hooks::new().on(move |event| {
            let _ = writeln!(log.lock().expect("lock"), "{event:?}");
        }));
    let done = client
        .extract::<User>()
        .user("Jason is 25")
        .with_completion()
        .await
        .expect("valid on the second answer");

    let spans = capture.0.lock().expect("lock").clone();
    for name in [
        "span gen_ai.extract",
        "gen_ai.system=\"openai\"",
        "gen_ai.request.model=gpt-4o-mini",
        "span gen_ai.attempt",
        "gen_ai.usage.input_tokens=10",
        "gen_ai.usage.output_tokens=5",
        "gen_ai.response.id=\"chatcmpl-fake\"",
    ] {
        assert!(spans.contains(name), "{name} not in spans:\n{spans}");
    }
    let hooks = hook_log.lock().expect("lock").clone();
    assert!(hooks.contains("TransportRetry"), "{hooks}");
    // The request event carries the wire body the provider sends (without the key).
    assert!(hooks.contains("\"tool_choice\""), "{hooks}");
    for (what, text) in [
        ("spans", spans),
        ("hooks", hooks),
        ("ledger", format!("{:?}", done.ledger)),
        ("response", format!("{:?}", done.response)),
        ("client", format!("{client:?}")),
    ] {
        assert!(!text.contains(KEY), "the key leaked into {what}:\n{text}");
    }

    a_sent_future_has_its_span_under_the_span_it_is_polled_in(&client, &server, &capture).await;
    an_error_never_shows_the_key().await;
    a_streamed_extraction_has_its_span(&server).await;
    let spans = capture.0.lock().expect("lock").clone();
    assert!(!spans.contains(KEY), "the key leaked into a span:\n{spans}");
    assert!(spans.contains("instructor.streaming=true"), "{spans}");
}

/// `.send()` builds the request at once, but its span is made when it is first polled:
/// a child of the span it runs in, and only one per extraction.
async fn a_sent_future_has_its_span_under_the_span_it_is_polled_in(
    client: &Client,
    server: &FakeProvider,
    capture: &Capture,
) {
    use tracing::Instrument;
    server.push(ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 25}"#).reply());
    let before = capture.0.lock().expect("lock").len();
    let future = client.extract::<User>().user("Jason is 25").send();
    let user = future
        .instrument(tracing::info_span!("job"))
        .await
        .expect("a user");
    assert_eq!(user.age, 25);
    let spans = capture.0.lock().expect("lock")[before..].to_owned();
    let extracts: Vec<&str> = spans
        .lines()
        .filter(|line| line.starts_with("span gen_ai.extract:"))
        .collect();
    assert_eq!(extracts.len(), 1, "one span per extraction:\n{spans}");
    assert!(extracts[0].ends_with(" parent=job"), "{spans}");
    let attempt = spans
        .lines()
        .find(|line| line.starts_with("span gen_ai.attempt:"))
        .expect("an attempt span");
    assert!(attempt.ends_with(" parent=gen_ai.extract"), "{spans}");
}

async fn a_streamed_extraction_has_its_span(server: &FakeProvider) {
    use futures_util::StreamExt;
    server.push(
        ChatCompletion::tool_call_fragments("User", ["{\"name\": \"Jo\", ", "\"age\": 3}"])
            .sse_reply(),
    );
    let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key(KEY));
    let client = Client::new(provider).with_model("gpt-4o-mini");
    let updates: Vec<_> = client.extract::<User>().user("x").partial().collect().await;
    assert!(updates.iter().all(Result::is_ok));
}

async fn an_error_never_shows_the_key() {
    let server = FakeProvider::start().await;
    server.push(Reply::json(
        401,
        serde_json::json!({"error": {"message": format!("Incorrect API key provided: {KEY}")}}),
    ));
    let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key(KEY));
    let client = Client::new(provider).with_model("gpt-4o-mini");
    let error = client.extract::<User>().user("x").await.expect_err("401");
    assert!(error.to_string().contains("401"), "{error}");
    assert!(!error.to_string().contains(KEY), "{error}");
    assert!(!format!("{error:?}").contains(KEY), "{error:?}");
}
