//! Partial types a UI can use: `"$state"` in their JSON, equality on values, defaults,
//! struct-update syntax from another module, and tagged enums that stream their
//! fields once the tag is known (through the sink and through a real stream).

use futures_util::StreamExt;
use instructor::FieldState;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::FakeProvider;
use instructor::providers::testing::openai::ChatCompletion;
use instructor::stream::PartialStream;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
#[serde(rename_all = "lowercase")]
enum Mood {
    Calm,
    Busy,
}

#[derive(Debug, Deserialize, Extract)]
struct Author {
    name: String,
    #[serde(rename = "yearsActive")]
    years: u32,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
struct Article {
    title: String,
    mood: Mood,
    author: Author,
    tags: Vec<String>,
    word_count: Option<u32>,
}

/// A shape, internally tagged.
#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Shape {
    Circle {
        label: String,
        radius: f64,
    },
    Rect {
        label: String,
        width: u32,
        height: u32,
    },
    Empty,
}

/// A message, adjacently tagged.
#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "t", content = "c", rename_all = "snake_case")]
enum Message {
    Text { body: String, author: Author },
    Count(u32),
    Ping,
}

#[derive(Debug, Deserialize, Extract)]
struct Drawing {
    title: String,
    shapes: Vec<Shape>,
}

/// Feeds `text` in chunks of `size` bytes; every snapshot, serialized.
fn stream_json<T: Extract>(text: &str, size: usize) -> (Vec<instructor::Partial<T>>, T) {
    let mut stream = PartialStream::<T>::new();
    let mut snapshots = Vec::new();
    for chunk in text.as_bytes().chunks(size) {
        if let Some(partial) = stream.feed(chunk).expect("valid") {
            snapshots.push(partial.clone());
        }
    }
    let value = stream.finish(&Context::new()).expect("valid value");
    (snapshots, value)
}

fn json_of<P: serde::Serialize>(partial: &P) -> serde_json::Value {
    serde_json::to_value(partial).expect("serialize")
}

const ARTICLE: &str = r#"{"title": "Rust at the beach", "mood": "calm",
  "author": {"name": "Ferris", "yearsActive": 11}, "tags": ["sun", "sea"], "wordCount": null}"#;

#[test]
fn a_partial_serializes_its_present_fields_and_their_states() {
    let mut stream = PartialStream::<Article>::new();
    stream
        .feed(br#"{"title": "Rust at", "author": {"name": "Fer"#)
        .expect("valid");
    let partial = stream.partial().expect("started");
    assert_eq!(
        json_of(partial),
        json!({
            "title": "Rust at",
            "author": {"name": "Fer", "$state": {"name": "streaming"}},
            "$state": {"title": "complete", "author": "streaming"}
        })
    );
    stream
        .feed(br#"ris", "yearsActive": 11}, "mood": "busy", "tags": ["a"#)
        .expect("valid");
    assert_eq!(
        json_of(stream.partial().expect("started")),
        json!({
            "title": "Rust at",
            "author": {
                "name": "Ferris", "yearsActive": 11,
                "$state": {"name": "complete", "yearsActive": "complete"}
            },
            "mood": "busy",
            "tags": ["a"],
            "$state": {
                "title": "complete", "author": "complete", "mood": "complete",
                "tags": "streaming"
            }
        })
    );
}

#[test]
fn an_empty_partial_has_an_empty_state_and_a_null_field_is_absent() {
    assert_eq!(json_of(&PartialArticle::default()), json!({"$state": {}}));
    let (snapshots, _) = stream_json::<Article>(ARTICLE, 7);
    let last = json_of(snapshots.last().expect("snapshots"));
    assert!(last.get("wordCount").is_none(), "{last}");
    assert!(last["$state"].get("wordCount").is_none(), "{last}");
}

#[test]
fn deserializing_ignores_the_states_and_keeps_the_values() {
    let (snapshots, _) = stream_json::<Article>(ARTICLE, 5);
    for snapshot in &snapshots {
        let text = serde_json::to_string(snapshot).expect("serialize");
        let back: PartialArticle = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(&back, snapshot);
    }
    // Without `"$state"` at all, with a wrong one, or with aliases of other types: the
    // same values.
    let plain: PartialArticle =
        serde_json::from_value(json!({"title": "x", "author": {"name": "y"}})).expect("plain");
    let odd: PartialArticle = serde_json::from_value(
        json!({"title": "x", "author": {"name": "y", "$state": 3}, "$state": ["?"]}),
    )
    .expect("odd states");
    assert_eq!(plain, odd);
    assert_eq!(plain.title.as_deref(), Some("x"));
    assert_eq!(plain.title_state(), FieldState::InProgress);
    // A wrong type is a typed error, not a panic.
    let error = serde_json::from_value::<PartialArticle>(json!({"title": 3})).expect_err("type");
    assert!(error.to_string().contains("string"), "{error}");
}

#[test]
fn equality_compares_values_not_states() {
    let mut stream = PartialStream::<Article>::new();
    stream.feed(br#"{"title": "Same""#).expect("valid");
    let complete = stream.partial().expect("started").clone();
    assert_eq!(complete.title_state(), FieldState::Complete);
    let streaming: PartialArticle =
        serde_json::from_value(json!({"title": "Same"})).expect("deserialize");
    assert_eq!(streaming.title_state(), FieldState::InProgress);
    assert_eq!(complete, streaming);
    assert_ne!(json_of(&complete), json_of(&streaming));
}

#[test]
fn every_partial_has_a_default() {
    let article = PartialArticle::default();
    assert_eq!(article.title, None);
    assert_eq!(article.title_state(), FieldState::Absent);
    // Enum mirrors default to their first unit variant, or else to their first
    // variant, empty.
    assert_eq!(PartialMood::default(), PartialMood::Calm);
    assert_eq!(PartialShape::default(), PartialShape::Empty);
    assert_eq!(PartialMessage::default(), PartialMessage::Ping);
    assert_eq!(
        PartialShape_Circle::default(),
        PartialShape_Circle {
            label: None,
            radius: None,
            ..Default::default()
        }
    );
}

/// Another module than the types': the struct-update syntax works.
mod elsewhere {
    use super::*;

    #[test]
    fn a_partial_is_built_with_struct_update_syntax() {
        let partial = PartialArticle {
            title: Some("a".into()),
            tags: Some(vec!["x".into()]),
            ..Default::default()
        };
        assert_eq!(
            json_of(&partial),
            json!({"title": "a", "tags": ["x"], "$state": {"title": "streaming", "tags": "streaming"}})
        );
        let circle = PartialShape::Circle(PartialShape_Circle {
            radius: Some(2.0),
            ..Default::default()
        });
        assert_eq!(
            json_of(&circle),
            json!({"type": "circle", "radius": 2.0, "$state": {"radius": "streaming"}})
        );
    }
}

fn circle_label(partial: &PartialDrawing) -> Option<String> {
    match partial.shapes.as_ref()?.first()? {
        PartialShape::Circle(circle) => circle.label.clone(),
        _ => None,
    }
}

#[test]
fn an_internally_tagged_variant_streams_its_fields_once_the_tag_is_known() {
    let text = r#"{"title": "d", "shapes": [
        {"type": "circle", "label": "a long circle label", "radius": 1.5},
        {"type": "rect", "label": "box", "width": 3, "height": 4},
        {"type": "empty"}]}"#;
    let (snapshots, value) = stream_json::<Drawing>(text, 4);
    let labels: Vec<String> = snapshots.iter().filter_map(circle_label).collect();
    assert!(labels.len() > 3, "the label grows: {labels:?}");
    assert!(labels.windows(2).all(|w| w[1].starts_with(&w[0])));
    assert_eq!(
        labels.last().map(String::as_str),
        Some("a long circle label")
    );
    // The circle is shown before its radius arrived.
    assert!(snapshots.iter().any(|s| matches!(
        s.shapes.as_deref(),
        Some([PartialShape::Circle(PartialShape_Circle {
            label: Some(_),
            radius: None,
            ..
        })])
    )));
    let last = snapshots.last().expect("snapshots");
    assert_eq!(
        json_of(&last.shapes),
        json!([
            {"type": "circle", "label": "a long circle label", "radius": 1.5,
             "$state": {"label": "complete", "radius": "complete"}},
            {"type": "rect", "label": "box", "width": 3, "height": 4,
             "$state": {"label": "complete", "width": "complete", "height": "complete"}},
            {"type": "empty"}
        ])
    );
    assert!(matches!(
        value.shapes[1],
        Shape::Rect {
            width: 3,
            height: 4,
            ..
        }
    ));
}

#[test]
fn a_tag_after_the_fields_is_waited_for_and_what_came_before_is_complete() {
    let text = r#"{"label": "first the label", "radius": 2.5, "type": "circle"}"#;
    let (snapshots, _) = stream_json::<Shape>(text, 3);
    // Nothing to show until the tag: then the fields that came before, whole.
    let first = snapshots.first().expect("a snapshot");
    let PartialShape::Circle(circle) = first else {
        panic!("a circle: {first:?}")
    };
    assert_eq!(circle.label.as_deref(), Some("first the label"));
    assert_eq!(circle.radius, Some(2.5));
    assert_eq!(circle.label_state(), FieldState::Complete);
    // A tag in the middle: buffered part complete, the rest streams.
    let text = r#"{"label": "lbl", "type": "rect", "width": 7, "height": 9}"#;
    let (snapshots, _) = stream_json::<Shape>(text, 2);
    let widths: Vec<_> = snapshots
        .iter()
        .map(|s| match s {
            PartialShape::Rect(rect) => (rect.label.clone(), rect.width, rect.height),
            other => panic!("a rect: {other:?}"),
        })
        .collect();
    assert_eq!(widths.first(), Some(&(Some("lbl".into()), None, None)));
    assert_eq!(widths.last(), Some(&(Some("lbl".into()), Some(7), Some(9))));
}

#[test]
fn an_unknown_or_missing_tag_is_a_typed_error() {
    let mut stream = PartialStream::<Shape>::new();
    let error = stream
        .feed(br#"{"type": "hexagon", "label": "x"}"#)
        .expect_err("unknown tag");
    assert!(error.to_string().contains("hexagon"), "{error}");
    let mut stream = PartialStream::<Shape>::new();
    stream.feed(br#"{"label": "x""#).expect("buffered");
    assert!(stream.partial().is_none(), "nothing before the tag");
    let error = stream.feed(b"}").expect_err("no tag");
    assert!(error.to_string().contains("`type`"), "{error}");
}

#[test]
fn an_adjacently_tagged_variant_streams_its_content() {
    let text = r#"{"t": "text", "c": {"body": "hello there, streaming world", "author": {"name": "Ann", "yearsActive": 2}}}"#;
    let (snapshots, value) = stream_json::<Message>(text, 3);
    let bodies: Vec<String> = snapshots
        .iter()
        .filter_map(|s| match s {
            PartialMessage::Text(text) => text.body.clone(),
            _ => None,
        })
        .collect();
    assert!(bodies.len() > 3, "the body grows: {bodies:?}");
    assert!(bodies.windows(2).all(|w| w[1].starts_with(&w[0])));
    // Shown as soon as the tag is known, content still empty.
    assert_eq!(
        json_of(snapshots.first().expect("snapshots")),
        json!({"t": "text", "c": {"$state": {}}})
    );
    assert_eq!(
        json_of(snapshots.last().expect("snapshots")),
        json!({"t": "text", "c": {
            "body": "hello there, streaming world",
            "author": {"name": "Ann", "yearsActive": 2,
                       "$state": {"name": "complete", "yearsActive": "complete"}},
            "$state": {"body": "complete", "author": "complete"}}})
    );
    assert!(matches!(value, Message::Text { .. }));
    // A newtype's content is shown whole; content before the tag is waited for.
    let (snapshots, _) = stream_json::<Message>(r#"{"c": 41, "t": "count"}"#, 2);
    assert_eq!(snapshots, vec![PartialMessage::Count(41)]);
    let (snapshots, _) = stream_json::<Message>(r#"{"t": "ping"}"#, 2);
    assert_eq!(snapshots, vec![PartialMessage::Ping]);
}

#[test]
fn tagged_partials_read_back_from_their_json() {
    for text in [
        r#"{"type": "rect", "label": "b", "width": 1, "height": 2}"#,
        r#"{"type": "empty"}"#,
    ] {
        let (snapshots, _) = stream_json::<Shape>(text, 3);
        for snapshot in &snapshots {
            let back: PartialShape =
                serde_json::from_value(json_of(snapshot)).expect("deserialize");
            assert_eq!(&back, snapshot);
        }
    }
    let (snapshots, _) = stream_json::<Message>(
        r#"{"t": "text", "c": {"body": "b", "author": {"name": "n", "yearsActive": 1}}}"#,
        3,
    );
    for snapshot in &snapshots {
        let back: PartialMessage = serde_json::from_value(json_of(snapshot)).expect("deserialize");
        assert_eq!(&back, snapshot);
    }
    let error = serde_json::from_value::<PartialShape>(json!({"type": "blob"})).expect_err("tag");
    assert!(error.to_string().contains("blob"), "{error}");
}

#[tokio::test(flavor = "current_thread")]
async fn tagged_enums_stream_through_a_real_extraction() {
    let server = FakeProvider::start().await;
    let provider =
        OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key("sk-partial-types"));
    let client = Client::new(provider).with_model("gpt-4o-mini");
    server.push(
        ChatCompletion::tool_call_fragments(
            "Drawing",
            [
                r#"{"title": "d", "shapes": [{"type": "ci"#,
                r#"rcle", "label": "a gr"#,
                r#"owing la"#,
                r#"bel", "radius": 1"#,
                r#".5}, {"label": "tag la"#,
                r#"st", "width": 2, "height": 3, "type": "rect"}]}"#,
            ],
        )
        .sse_reply(),
    );
    let mut labels = Vec::new();
    let mut states = Vec::new();
    let mut done = None;
    let mut stream = Box::pin(client.extract::<Drawing>().user("draw").partial());
    while let Some(update) = stream.next().await {
        match update.expect("valid stream") {
            PartialUpdate::Partial(partial) => {
                labels.extend(circle_label(&partial));
                states.push(json_of(&partial));
            }
            PartialUpdate::Done(completion) => done = Some(completion.value),
            other => panic!("no restart expected: {other:?}"),
        }
    }
    assert!(
        labels.contains(&"a gr".to_owned()) && labels.contains(&"a growing la".to_owned()),
        "{labels:?}"
    );
    // The circle's label streams; the rect appears only once its tag (last) arrived,
    // with the fields before it complete.
    assert!(
        states
            .iter()
            .any(|s| s["shapes"][0]["$state"]["label"] == "streaming")
    );
    let rects: Vec<_> = states
        .iter()
        .filter_map(|s| s["shapes"].get(1).cloned())
        .collect();
    assert_eq!(
        rects.first(),
        Some(
            &json!({"type": "rect", "label": "tag last", "width": 2, "height": 3,
            "$state": {"label": "complete", "width": "complete", "height": "complete"}})
        )
    );
    let drawing = done.expect("done");
    assert!(matches!(&drawing.shapes[0], Shape::Circle { radius, .. } if *radius == 1.5));
    assert!(matches!(&drawing.shapes[1], Shape::Rect { label, .. } if label == "tag last"));
}
