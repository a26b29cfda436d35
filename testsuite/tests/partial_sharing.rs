//! Partials are shared, not copied: `.partial()` hands out the stream's partial in an
//! `Arc`. A consumer that drops each update before polling the next never causes a
//! copy (every update is the same allocation, changed in place); one that keeps its
//! snapshots gets each as it was when handed out (the stream copies before changing a
//! snapshot still held). Owned snapshots remain one call away.

use futures_util::StreamExt;
use instructor::client::{PartialUpdate, PartialUpdates};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
use instructor::stream::PartialStream;
use std::sync::Arc;

#[derive(Debug, Deserialize, Extract)]
struct Note {
    title: String,
    lines: Vec<String>,
}

fn client_for(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini")
}

const FRAGMENTS: [&str; 6] = [
    r#"{"title": "Sh"#,
    r#"opping", "lines": ["#,
    r#""eggs", "mi"#,
    r#"lk", "bre"#,
    r#"ad"]"#,
    "}",
];

fn streamed_note() -> instructor::providers::testing::Reply {
    ChatCompletion::tool_call_fragments("Note", FRAGMENTS).sse_reply()
}

fn assert_owned_stream<S: futures_util::Stream + Send + Unpin + 'static>(_: &S) {}

#[tokio::test(flavor = "current_thread")]
async fn a_consumer_that_drops_each_update_gets_one_partial_changed_in_place() {
    let server = FakeProvider::start().await;
    server.push(streamed_note());
    let client = client_for(&server);
    let mut stream: PartialUpdates<Note> = client.extract::<Note>().user("a note").partial();
    assert_owned_stream(&stream);

    let mut addresses = Vec::new();
    let mut titles = Vec::new();
    let mut value = None;
    while let Some(update) = stream.next().await {
        match update.expect("a valid stream") {
            PartialUpdate::Partial(partial) => {
                // Only the address is kept: the update itself is dropped here.
                addresses.push(Arc::as_ptr(&partial) as usize);
                titles.push(partial.title.clone());
            }
            PartialUpdate::Done(done) => value = Some(done.value),
            other => panic!("no restart expected: {other:?}"),
        }
    }
    assert!(addresses.len() >= 4, "{addresses:?}");
    assert!(
        addresses.iter().all(|address| *address == addresses[0]),
        "no update copied the partial: {addresses:?}"
    );
    assert_eq!(titles[0].as_deref(), Some("Sh"));
    assert_eq!(
        titles.last().cloned().flatten().as_deref(),
        Some("Shopping")
    );
    let note = value.expect("the value at the end");
    assert_eq!(note.lines, ["eggs", "milk", "bread"]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_throttled_stream_holds_its_changes_without_copying_the_partial() {
    // Changes 150 ms apart, at most one partial per 400 ms: some are held, and what
    // is held is a flag, not a snapshot, so the partial is still one allocation
    // changed in place (a snapshot held by the stream would make every change a copy).
    let server = FakeProvider::start().await;
    server.push(streamed_note().delay_between(std::time::Duration::from_millis(150)));
    let client = client_for(&server);
    let mut stream = client
        .extract::<Note>()
        .user("a note")
        .partial_throttled(std::time::Duration::from_millis(400));
    let mut addresses = Vec::new();
    let mut value = None;
    while let Some(update) = stream.next().await {
        match update.expect("a valid stream") {
            PartialUpdate::Partial(partial) => addresses.push(Arc::as_ptr(&partial) as usize),
            PartialUpdate::Done(done) => value = Some(done.value),
            other => panic!("no restart expected: {other:?}"),
        }
    }
    assert!(addresses.len() >= 2, "{addresses:?}");
    assert!(
        addresses.len() < FRAGMENTS.len(),
        "nothing was held: {addresses:?}"
    );
    assert!(
        addresses.iter().all(|a| *a == addresses[0]),
        "{addresses:?}"
    );
    let value = value.expect("the value");
    assert_eq!(value.lines, ["eggs", "milk", "bread"]);
}

#[tokio::test(flavor = "current_thread")]
async fn snapshots_kept_by_the_consumer_stay_as_they_were_handed_out() {
    let server = FakeProvider::start().await;
    server.push(streamed_note());
    let client = client_for(&server);
    let mut stream = client.extract::<Note>().user("a note").partial();

    let mut kept: Vec<Arc<PartialNote>> = Vec::new();
    let mut seen_then: Vec<String> = Vec::new();
    while let Some(update) = stream.next().await {
        if let PartialUpdate::Partial(partial) = update.expect("a valid stream") {
            seen_then.push(format!("{partial:?}"));
            kept.push(partial);
        }
    }
    assert!(kept.len() >= 4, "{seen_then:?}");
    // Each snapshot still reads as it did when it arrived, though the stream went on.
    let seen_now: Vec<String> = kept.iter().map(|partial| format!("{partial:?}")).collect();
    assert_eq!(seen_now, seen_then);
    assert_eq!(kept[0].title.as_deref(), Some("Sh"));
    assert!(kept[0].lines.is_none(), "{:?}", kept[0]);
    let last = kept.last().expect("a last snapshot");
    assert_eq!(
        last.lines.as_ref().map(|lines| lines.len()),
        Some(3),
        "{last:?}"
    );
    // Distinct snapshots: the stream copied before changing one still held.
    assert!(!Arc::ptr_eq(&kept[0], &kept[1]));
    // An owned partial, when a UI wants one.
    let owned: PartialNote = Arc::unwrap_or_clone(Arc::clone(last));
    assert_eq!(&owned, last.as_ref());
}

#[test]
fn the_typed_stream_shares_its_partial_and_copies_only_a_held_one() {
    let mut stream = PartialStream::<Note>::new();
    assert!(stream.shared().is_none(), "nothing visible yet");
    stream.feed(br#"{"title": "Sh"#).expect("valid");
    let first = stream.shared().expect("a partial");
    let again = stream.shared().expect("a partial");
    assert!(Arc::ptr_eq(&first, &again), "sharing twice is one partial");
    drop(again);

    // `first` is held: the change goes to a copy, `first` keeps what it showed.
    stream.feed(br#"opping", "lines": ["eggs"#).expect("valid");
    let second = stream.shared().expect("a partial");
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(first.title.as_deref(), Some("Sh"));
    assert_eq!(second.title.as_deref(), Some("Shopping"));

    // Nothing held any more: changed in place.
    let address = Arc::as_ptr(&second) as usize;
    drop((first, second));
    stream.feed(br#"", "milk"]}"#).expect("valid");
    let third = stream.shared().expect("a partial");
    assert_eq!(Arc::as_ptr(&third) as usize, address);
    assert_eq!(
        third.lines.as_deref(),
        Some(&["eggs".to_owned(), "milk".to_owned()][..])
    );
    drop(third);
    let note = stream.finish(&Context::new()).expect("a note");
    assert_eq!(note.title, "Shopping");
}

#[test]
fn a_preview_only_stream_keeps_no_text_and_says_so_at_the_end() {
    let mut stream = PartialStream::<Note>::new().preview_only();
    stream
        .feed(br#"{"title": "Shopping", "lines": []}"#)
        .expect("valid");
    assert_eq!(
        stream.partial().and_then(|p| p.title.as_deref()),
        Some("Shopping")
    );
    // The value is read by whoever kept the text; the preview has none to read.
    let error = stream.finish(&Context::new()).expect_err("no text kept");
    assert!(!error.to_string().is_empty());
}
