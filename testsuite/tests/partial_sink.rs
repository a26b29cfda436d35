//! Generated partial types applying hand-fed, path-addressed parser events.

use instructor::prelude::*;
use instructor::{Event, HasPartial, PartialSink, PathSegment, Scratch};

/// Events of a whole document, in the order a streaming parser emits them, with
/// every string split into fragments of `fragment` characters.
fn events_of(value: &serde_json::Value, fragment: usize) -> Vec<(Vec<PathSegment>, OwnedEvent)> {
    fn walk(
        value: &serde_json::Value,
        path: &mut Vec<PathSegment>,
        fragment: usize,
        out: &mut Vec<(Vec<PathSegment>, OwnedEvent)>,
    ) {
        use serde_json::Value;
        match value {
            Value::Null => out.push((path.clone(), OwnedEvent::Null)),
            Value::Bool(b) => out.push((path.clone(), OwnedEvent::Bool(*b))),
            Value::Number(n) => out.push((path.clone(), OwnedEvent::Number(n.to_string()))),
            Value::String(s) => {
                out.push((path.clone(), OwnedEvent::BeginString));
                let chars: Vec<char> = s.chars().collect();
                for chunk in chars.chunks(fragment.max(1)) {
                    out.push((path.clone(), OwnedEvent::Fragment(chunk.iter().collect())));
                }
                out.push((path.clone(), OwnedEvent::EndString));
            }
            Value::Array(items) => {
                out.push((path.clone(), OwnedEvent::BeginArray));
                for (i, item) in items.iter().enumerate() {
                    path.push(PathSegment::Index(i));
                    walk(item, path, fragment, out);
                    path.pop();
                }
                out.push((path.clone(), OwnedEvent::EndArray));
            }
            Value::Object(map) => {
                out.push((path.clone(), OwnedEvent::BeginObject));
                for (key, item) in map {
                    path.push(PathSegment::Key(key.clone()));
                    walk(item, path, fragment, out);
                    path.pop();
                }
                out.push((path.clone(), OwnedEvent::EndObject));
            }
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), fragment, &mut out);
    out
}

#[derive(Debug, Clone)]
enum OwnedEvent {
    BeginObject,
    EndObject,
    BeginArray,
    EndArray,
    BeginString,
    Fragment(String),
    EndString,
    Number(String),
    Bool(bool),
    Null,
}

impl OwnedEvent {
    fn as_event(&self) -> Event<'_> {
        match self {
            OwnedEvent::BeginObject => Event::BeginObject,
            OwnedEvent::EndObject => Event::EndObject,
            OwnedEvent::BeginArray => Event::BeginArray,
            OwnedEvent::EndArray => Event::EndArray,
            OwnedEvent::BeginString => Event::BeginString,
            OwnedEvent::Fragment(s) => Event::StringFragment(s),
            OwnedEvent::EndString => Event::EndString,
            OwnedEvent::Number(n) => Event::Number(n),
            OwnedEvent::Bool(b) => Event::Bool(*b),
            OwnedEvent::Null => Event::Null,
        }
    }
}

/// Feeds every event of `doc` to a fresh partial of `T`, returning the snapshot after
/// each event that reported a visible change.
fn stream<T: HasPartial>(doc: serde_json::Value, fragment: usize) -> Vec<T::Partial> {
    let mut slot: Option<T::Partial> = None;
    let mut scratch = Scratch::default();
    let mut snapshots = Vec::new();
    for (path, event) in events_of(&doc, fragment) {
        let changed = T::apply_slot(&mut slot, &path, &event.as_event(), &mut scratch)
            .unwrap_or_else(|e| panic!("event {event:?} at {path:?}: {e}"));
        if changed {
            snapshots.push(slot.clone().expect("a change makes the value visible"));
        }
    }
    snapshots
}

/// Priority of a ticket.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
#[serde(rename_all = "lowercase")]
enum Priority {
    Low,
    High,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Block {
    Paragraph { text: String },
    Code { language: String, lines: u32 },
}

#[derive(Debug, Deserialize, Extract)]
struct Section {
    title: String,
    score: f64,
    tags: Vec<String>,
    blocks: Vec<Block>,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
struct Report {
    report_title: String,
    priority: Priority,
    done: bool,
    word_count: u32,
    sections: Vec<Section>,
    reviewer: Option<String>,
}

fn report_doc() -> serde_json::Value {
    serde_json::json!({
        "reportTitle": "Quarterly numbers",
        "priority": "high",
        "done": false,
        "wordCount": 4242,
        "sections": [
            {"title": "Intro", "score": 0.5, "tags": ["a", "bb"], "blocks": [
                {"kind": "paragraph", "text": "Hello world"},
                {"kind": "code", "language": "rust", "lines": 12}
            ]},
            {"title": "Outro", "score": 1.25, "tags": [], "blocks": []}
        ],
        "reviewer": null
    })
}

#[test]
fn final_partial_equals_the_document() {
    let snapshots = stream::<Report>(report_doc(), 3);
    let last = snapshots.last().expect("snapshots");
    assert_eq!(last.report_title.as_deref(), Some("Quarterly numbers"));
    assert_eq!(last.priority, Some(PartialPriority::High));
    assert_eq!(last.done, Some(false));
    assert_eq!(last.word_count, Some(4242));
    assert_eq!(last.reviewer, None);
    let sections = last.sections.as_ref().expect("sections");
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0].title.as_deref(), Some("Intro"));
    assert_eq!(sections[0].score, Some(0.5));
    assert_eq!(
        sections[0].tags,
        Some(vec!["a".to_owned(), "bb".to_owned()])
    );
    let blocks = sections[0].blocks.as_ref().expect("blocks");
    assert_eq!(
        blocks[0],
        PartialBlock::Paragraph(PartialBlock_Paragraph {
            text: Some("Hello world".to_owned()),
            ..Default::default()
        })
    );
    assert_eq!(
        blocks[1],
        PartialBlock::Code(PartialBlock_Code {
            language: Some("rust".to_owned()),
            lines: Some(12),
            ..Default::default()
        })
    );
    assert_eq!(sections[1].blocks, Some(vec![]));
}

/// A serialized partial without its `"$state"` objects, at every depth.
fn without_states(mut value: serde_json::Value) -> serde_json::Value {
    match &mut value {
        serde_json::Value::Object(map) => {
            map.remove("$state");
            for member in map.values_mut() {
                *member = without_states(member.take());
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                *item = without_states(item.take());
            }
        }
        _ => {}
    }
    value
}

#[test]
fn partial_serializes_with_wire_names_like_the_model_wrote_them() {
    let snapshots = stream::<Report>(report_doc(), 4);
    let last_partial = snapshots.last().expect("snapshots");
    let last = serde_json::to_value(last_partial).expect("serialize");
    let mut expected = report_doc();
    // Absent (null) optional fields are skipped in snapshots.
    expected.as_object_mut().expect("object").remove("reviewer");
    assert_eq!(without_states(last.clone()), expected);
    assert_eq!(
        last["$state"],
        serde_json::json!({
            "reportTitle": "complete", "priority": "complete", "done": "complete",
            "wordCount": "complete", "sections": "complete"
        })
    );
    assert_eq!(last["sections"][1]["$state"]["tags"], "complete");
    // A snapshot sent elsewhere reads back with the same values; `"$state"` is
    // ignored on the way in (it describes one stream, not the data).
    let back: PartialReport = serde_json::from_value(last.clone()).expect("deserialize");
    assert_eq!(&back, last_partial);
    let again = serde_json::to_value(&back).expect("serialize");
    assert_eq!(without_states(again.clone()), expected);
    assert_eq!(again["$state"]["reportTitle"], "streaming");
}

#[test]
fn strings_grow_fragment_by_fragment() {
    let snapshots = stream::<Report>(report_doc(), 3);
    let titles: Vec<String> = snapshots
        .iter()
        .filter_map(|s| s.report_title.clone())
        .collect::<Vec<_>>();
    let mut distinct = titles.clone();
    distinct.dedup();
    assert_eq!(
        distinct,
        [
            "",
            "Qua",
            "Quarte",
            "Quarterly",
            "Quarterly nu",
            "Quarterly numbe",
            "Quarterly numbers"
        ]
    );
    for pair in distinct.windows(2) {
        assert!(
            pair[1].starts_with(&pair[0]),
            "{:?} does not extend {:?}",
            pair[1],
            pair[0]
        );
    }
    assert!(
        distinct.len() >= 5,
        "title should grow in several steps: {distinct:?}"
    );
}

#[test]
fn numbers_booleans_and_enums_appear_only_when_complete() {
    for snapshot in stream::<Report>(report_doc(), 1) {
        if let Some(count) = snapshot.word_count {
            assert_eq!(count, 4242, "never a half-written number");
        }
        if let Some(priority) = &snapshot.priority {
            assert_eq!(
                priority,
                &PartialPriority::High,
                "never a half-written enum"
            );
        }
        for section in snapshot.sections.iter().flatten() {
            if let Some(score) = section.score {
                assert!(score == 0.5 || score == 1.25);
            }
            for block in section.blocks.iter().flatten() {
                // An internally tagged enum appears with its tag; then its strings
                // grow and its numbers appear whole.
                match block {
                    PartialBlock::Paragraph(p) => {
                        let text = p.text.as_deref().unwrap_or_default();
                        assert!("Hello world".starts_with(text), "{text}");
                    }
                    PartialBlock::Code(code) => {
                        let language = code.language.as_deref().unwrap_or_default();
                        assert!("rust".starts_with(language), "{language}");
                        assert!(code.lines.is_none() || code.lines == Some(12));
                    }
                }
            }
        }
    }
}

#[test]
fn list_items_appear_in_order_and_grow() {
    let snapshots = stream::<Report>(report_doc(), 2);
    let counts: Vec<usize> = snapshots
        .iter()
        .map(|s| s.sections.as_ref().map_or(0, Vec::len))
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] <= w[1]),
        "sections never shrink"
    );
    assert_eq!(counts.last(), Some(&2));
    // The first section is visible (with a partial title) before the second starts.
    assert!(snapshots.iter().any(|s| {
        s.sections.as_ref().is_some_and(|v| {
            v.len() == 1
                && v[0]
                    .title
                    .as_deref()
                    .is_some_and(|t| t.len() < "Intro".len())
        })
    }));
}

#[test]
fn a_snapshot_is_only_taken_when_something_visible_changed() {
    let snapshots = stream::<Report>(report_doc(), 3);
    // What a reader sees is the values and the field states (a string that
    // completes changes only its state).
    let seen: Vec<_> = snapshots
        .iter()
        .map(|s| serde_json::to_value(s).expect("serialize"))
        .collect();
    for pair in seen.windows(2) {
        assert_ne!(pair[0], pair[1], "two equal consecutive snapshots");
    }
}

#[test]
fn unknown_keys_are_ignored() {
    let doc = serde_json::json!({"reportTitle": "x", "extra": {"deep": [1, 2, {"a": "b"}]}, "done": true});
    let last = stream::<Report>(doc, 2).pop().expect("snapshots");
    assert_eq!(last.report_title.as_deref(), Some("x"));
    assert_eq!(last.done, Some(true));
}

#[test]
fn a_wrong_type_is_a_typed_error_not_a_panic() {
    let doc = serde_json::json!({"wordCount": "many"});
    let mut slot = None;
    let mut scratch = Scratch::default();
    let mut error = None;
    for (path, event) in events_of(&doc, 2) {
        if let Err(e) = Report::apply_slot(&mut slot, &path, &event.as_event(), &mut scratch) {
            error = Some(e);
            break;
        }
    }
    let error = error.expect("a string for an integer is reported");
    assert!(error.to_string().contains("integer"), "{error}");
}

#[test]
fn a_sinks_error_is_relative_to_the_sink_and_has_no_empty_path_prefix() {
    let doc = serde_json::json!({"wordCount": "many"});
    let mut slot = None;
    let mut scratch = Scratch::default();
    let error = events_of(&doc, 2)
        .into_iter()
        .find_map(|(path, event)| {
            Report::apply_slot(&mut slot, &path, &event.as_event(), &mut scratch).err()
        })
        .expect("a string for an integer is reported");
    // The leaf that refused sits at the end of the path it was given: its own path is
    // the root, and it prints its reason alone (the stream adds the absolute path).
    assert!(error.path().is_root(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "expected an integer in range, found a string"
    );
}

#[test]
fn an_out_of_range_number_is_an_error() {
    let doc = serde_json::json!({"wordCount": -1});
    let mut slot = None;
    let mut scratch = Scratch::default();
    let errors: Vec<_> = events_of(&doc, 2)
        .into_iter()
        .filter_map(|(path, event)| {
            Report::apply_slot(&mut slot, &path, &event.as_event(), &mut scratch).err()
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().contains("`-1`"), "{}", errors[0]);
}

#[test]
fn an_invalid_enum_value_is_an_error() {
    let doc = serde_json::json!({"priority": "urgent"});
    let mut slot = None;
    let mut scratch = Scratch::default();
    let errors: Vec<_> = events_of(&doc, 2)
        .into_iter()
        .filter_map(|(path, event)| {
            Report::apply_slot(&mut slot, &path, &event.as_event(), &mut scratch).err()
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().contains("urgent"), "{}", errors[0]);
}

/// A tree: recursive partials through `Vec` and `Box`.
#[derive(Debug, Deserialize, Extract)]
struct TreeNode {
    name: String,
    children: Vec<TreeNode>,
    next: Option<Box<TreeNode>>,
}

#[test]
fn recursive_partials_fill_in() {
    let doc = serde_json::json!({
        "name": "root",
        "children": [{"name": "a", "children": [{"name": "a1", "children": []}]}],
        "next": {"name": "sibling", "children": []}
    });
    let last = stream::<TreeNode>(doc, 2).pop().expect("snapshots");
    let children = last.children.expect("children");
    assert_eq!(children[0].name.as_deref(), Some("a"));
    let grandchildren = children[0].children.as_ref().expect("grandchildren");
    assert_eq!(grandchildren[0].name.as_deref(), Some("a1"));
    assert_eq!(last.next.expect("next").name.as_deref(), Some("sibling"));
}

#[derive(Debug, Deserialize, Extract)]
struct Page<T> {
    items: Vec<T>,
    total: u32,
}

#[test]
fn generic_partials_use_the_parameters_partial() {
    let doc = serde_json::json!({"items": [{"title": "t", "score": 2.0, "tags": ["x"], "blocks": []}], "total": 1});
    let last = stream::<Page<Section>>(doc, 5).pop().expect("snapshots");
    let items: Vec<PartialSection> = last.items.expect("items");
    assert_eq!(items[0].title.as_deref(), Some("t"));
    assert_eq!(last.total, Some(1));
}

#[derive(Debug, Deserialize, Extract)]
struct Envelope {
    id: u32,
    #[serde(flatten)]
    meta: Meta,
    #[serde(flatten)]
    extra: std::collections::HashMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize, Extract)]
struct Meta {
    author: String,
}

#[test]
fn flattened_fields_receive_their_keys_and_maps_take_the_rest() {
    let doc = serde_json::json!({"id": 7, "author": "ann", "color": "red", "n": [1, 2]});
    let last = stream::<Envelope>(doc, 2).pop().expect("snapshots");
    assert_eq!(last.id, Some(7));
    assert_eq!(last.meta.expect("meta").author.as_deref(), Some("ann"));
    let extra = last.extra.expect("extra");
    assert_eq!(extra.get("color"), Some(&serde_json::json!("red")));
    assert_eq!(extra.get("n"), Some(&serde_json::json!([1, 2])));
    assert!(!extra.contains_key("author"));
}

#[derive(Debug, Deserialize, Extract)]
enum Shape {
    Circle { radius: f64 },
    Point,
}

#[derive(Debug, Deserialize, Extract)]
struct Drawing {
    shapes: Vec<Shape>,
    fill: Option<Priority>,
}

#[test]
fn externally_tagged_enums_in_lists_appear_whole() {
    let doc = serde_json::json!({"shapes": [{"Circle": {"radius": 2.5}}, "Point"], "fill": "low"});
    let snapshots = stream::<Drawing>(doc, 1);
    let last = snapshots.last().expect("snapshots");
    assert_eq!(
        last.shapes,
        Some(vec![
            PartialShape::Circle { radius: 2.5 },
            PartialShape::Point
        ])
    );
    assert_eq!(last.fill, Some(PartialPriority::Low));
    let lengths: Vec<usize> = snapshots
        .iter()
        .map(|s| s.shapes.as_ref().map_or(0, Vec::len))
        .collect();
    assert!(lengths.contains(&1) && lengths.contains(&2));
}

#[test]
fn the_partial_type_is_named_after_the_type_and_has_the_same_visibility() {
    fn assert_partial<T: HasPartial<Partial = P>, P>() {}
    assert_partial::<Report, PartialReport>();
    assert_partial::<Priority, PartialPriority>();
    let _: instructor::Partial<Report> = PartialReport::default();
}

#[allow(dead_code)]
#[derive(Debug, Deserialize, Extract)]
#[extract(partial = "TicketDraft")]
struct Ticket {
    title: String,
}

#[test]
fn the_partial_name_can_be_overridden() {
    let mut draft = TicketDraft::default();
    let mut scratch = Scratch::default();
    let path = [PathSegment::Key("title".into())];
    draft
        .apply(&path, &Event::StringFragment("hi"), &mut scratch)
        .expect("apply");
    assert_eq!(draft.title.as_deref(), Some("hi"));
}

#[test]
fn an_element_after_a_failed_one_is_an_error_not_a_shifted_value() {
    // Element 0 is not a valid priority, so it never becomes visible; element 1 must
    // not silently take its place.
    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Levels {
        levels: Vec<Priority>,
    }
    let doc = serde_json::json!({"levels": ["urgent", "low"]});
    let mut slot = None;
    let mut scratch = Scratch::default();
    let mut errors = Vec::new();
    for (path, event) in events_of(&doc, 3) {
        if let Err(e) = Levels::apply_slot(&mut slot, &path, &event.as_event(), &mut scratch) {
            errors.push(e.to_string());
            scratch.reset();
        }
    }
    assert!(errors[0].contains("urgent"), "{errors:?}");
    // Every event of element 1 is refused, none lands at index 0.
    assert!(errors.len() > 1, "{errors:?}");
    for error in &errors[1..] {
        assert!(
            error.contains("element 1 arrived while element 0 is missing"),
            "{errors:?}"
        );
    }
    assert_eq!(slot.expect("levels").levels, Some(vec![]));
}
