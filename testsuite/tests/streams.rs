//! Typed streams of derived types: partial snapshots, field events, coalescing, the
//! validated value at the end, and finished list items.

use instructor::prelude::*;
use instructor::stream::{Coalesce, FieldEvent, ItemStream, PartialStream, StreamError};
use instructor::{PathSegment, partial::display_path};

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
#[serde(rename_all = "lowercase")]
enum Mood {
    Calm,
    Busy,
}

#[derive(Debug, Deserialize, Extract)]
struct Section {
    title: String,
    #[garde(range(min = 0.0, max = 1.0))]
    score: f64,
    tags: Vec<String>,
}

#[derive(Debug, Deserialize, Extract)]
struct Report {
    summary: String,
    mood: Mood,
    sections: Vec<Section>,
    pages: u32,
}

const REPORT: &str = r#"{"summary": "All quiet on the western front", "mood": "calm",
 "sections": [{"title": "Intro", "score": 0.25, "tags": ["a", "b"]},
              {"title": "Body", "score": 0.75, "tags": []}],
 "pages": 1234}"#;

fn chunks(text: &str, size: usize) -> Vec<&[u8]> {
    text.as_bytes().chunks(size).collect()
}

#[test]
fn snapshots_come_only_when_something_visible_changed() {
    let mut stream = PartialStream::<Report>::new();
    let mut snapshots = Vec::new();
    for chunk in chunks(REPORT, 3) {
        if let Some(partial) = stream.feed(chunk).expect("valid") {
            snapshots.push(partial.clone());
        }
    }
    assert!(snapshots.len() > 10, "{}", snapshots.len());
    // Visible: the values and the field states (a string completing changes its
    // state only), which is what a serialized snapshot shows.
    let seen: Vec<_> = snapshots
        .iter()
        .map(|s| serde_json::to_value(s).expect("serialize"))
        .collect();
    for pair in seen.windows(2) {
        assert_ne!(pair[0], pair[1], "a snapshot without a visible change");
    }
    // Numbers appear only once complete.
    for snapshot in &snapshots {
        assert!(snapshot.pages.is_none() || snapshot.pages == Some(1234));
    }
    let report = stream.finish(&Context::new()).expect("valid report");
    assert_eq!(report.pages, 1234);
    assert_eq!(report.sections[1].title, "Body");
}

#[test]
fn whitespace_and_keys_alone_give_no_snapshot() {
    let mut stream = PartialStream::<Report>::new();
    assert!(
        stream.feed(b"   {  ").expect("valid").is_some(),
        "the object appears"
    );
    assert!(stream.feed(b"\"summ").expect("valid").is_none());
    assert!(stream.feed(b"ary\"  :  ").expect("valid").is_none());
    assert!(stream.feed(b"\"A").expect("valid").is_some());
}

#[test]
fn coalescing_limits_snapshots_per_bytes_and_keeps_the_latest_state() {
    let mut stream = PartialStream::<Report>::new().coalesce(Coalesce {
        bytes: Some(64),
        interval: None,
    });
    let mut count = 0;
    for chunk in chunks(REPORT, 2) {
        if stream.feed(chunk).expect("valid").is_some() {
            count += 1;
        }
    }
    assert!(count <= REPORT.len() / 64 + 1, "{count} snapshots");
    assert!(count >= 2);
    // The latest state is always there, coalesced or not.
    assert_eq!(stream.partial().and_then(|p| p.pages), Some(1234));
}

#[test]
fn coalescing_by_interval_gives_one_snapshot_per_window() {
    // A window far longer than the test: the first change gives a snapshot, the rest
    // of the stream falls in the same window.
    let mut stream = PartialStream::<Report>::new().coalesce(Coalesce {
        bytes: None,
        interval: Some(std::time::Duration::from_secs(3600)),
    });
    let count = chunks(REPORT, 4)
        .into_iter()
        .filter(|chunk| stream.feed(chunk).expect("valid").is_some())
        .count();
    assert_eq!(count, 1);
    assert_eq!(stream.partial().and_then(|p| p.pages), Some(1234));
}

#[test]
fn field_events_say_exactly_what_changed() {
    let mut stream = PartialStream::<Report>::new();
    let mut log = Vec::new();
    for chunk in chunks(REPORT, 5) {
        stream
            .feed_with_events(chunk, |event| {
                let path = display_path(event.path());
                match event {
                    FieldEvent::Grew { text, .. } => log.push(format!("grew {path} {text:?}")),
                    FieldEvent::Completed { .. } => {
                        if let Some(index) = event.completed_item() {
                            log.push(format!("item {index} of {path}"));
                        } else {
                            log.push(format!("completed {path}"));
                        }
                    }
                }
            })
            .expect("valid");
    }
    let summary: String = log
        .iter()
        .filter_map(|l| l.strip_prefix("grew summary "))
        .map(|t| t.trim_matches('"').to_owned())
        .collect();
    assert_eq!(summary, "All quiet on the western front");
    assert!(log.contains(&"completed summary".to_owned()), "{log:#?}");
    assert!(log.contains(&"completed mood".to_owned()));
    assert!(
        log.contains(&"item 0 of sections[0]".to_owned()),
        "{log:#?}"
    );
    assert!(
        log.contains(&"item 1 of sections[0].tags[1]".to_owned()),
        "{log:#?}"
    );
    assert!(
        log.contains(&"item 1 of sections[1]".to_owned()),
        "{log:#?}"
    );
    assert!(log.contains(&"completed pages".to_owned()));
    let first_item = log.iter().position(|l| l == "item 0 of sections[0]");
    let second_title = log
        .iter()
        .position(|l| l.starts_with("grew sections[1].title"));
    assert!(
        first_item < second_title,
        "item 0 completes before item 1 begins"
    );
}

#[test]
fn a_wrong_type_stops_the_stream_with_its_path() {
    let mut stream = PartialStream::<Report>::new();
    let error = stream
        .feed(br#"{"summary": "x", "pages": "many"}"#)
        .expect_err("a string for a number");
    match &error {
        StreamError::Partial { path, .. } => assert_eq!(path, "pages"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_final_value_is_deserialized_with_paths_and_validated() {
    let missing = r#"{"summary": "x", "mood": "calm", "sections": []}"#;
    let mut stream = PartialStream::<Report>::new();
    stream.feed(missing.as_bytes()).expect("valid JSON");
    let error = stream.finish(&Context::new()).expect_err("pages missing");
    assert!(
        error.to_string().contains("pages: missing required field"),
        "{error}"
    );

    let invalid = r#"{"summary": "x", "mood": "busy", "pages": 1,
        "sections": [{"title": "t", "score": 7.5, "tags": []}]}"#;
    let mut stream = PartialStream::<Report>::new();
    stream.feed(invalid.as_bytes()).expect("valid JSON");
    match stream.finish(&Context::new()) {
        Err(StreamError::Validation(errors)) => {
            assert_eq!(
                errors.to_string(),
                "sections[0].score: must be at most 1 (it is 7.5)"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_input_is_an_unexpected_end() {
    let mut stream = PartialStream::<Report>::new();
    stream.feed(&REPORT.as_bytes()[..40]).expect("valid so far");
    let error = stream.finish(&Context::new()).expect_err("truncated");
    assert!(matches!(error, StreamError::Parse(_)), "{error:?}");
    assert!(error.to_string().contains("ended early"), "{error}");
}

#[derive(Debug, Deserialize, Extract)]
struct User {
    name: String,
    #[garde(range(max = 150))]
    age: u8,
}

fn collect_items(
    stream: &mut ItemStream<User>,
    text: &str,
    size: usize,
) -> Vec<Result<User, String>> {
    let mut out = Vec::new();
    for chunk in chunks(text, size) {
        for item in stream.feed(chunk).expect("valid JSON") {
            out.push(item.map_err(|e| e.to_string()));
        }
    }
    out
}

#[test]
fn items_are_yielded_as_each_closes() {
    let text = r#"{"items": [{"name": "Ann", "age": 30}, {"name": "Bo", "age": 40}, {"name": "Cy", "age": 50}]}"#;
    let mut stream = ItemStream::<User>::new(Context::new());
    let mut seen_after = Vec::new();
    for (i, chunk) in chunks(text, 7).into_iter().enumerate() {
        for item in stream.feed(chunk).expect("valid") {
            seen_after.push((i, item.expect("valid user").name));
        }
    }
    assert!(stream.finish().expect("complete").is_empty());
    let names: Vec<&str> = seen_after.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["Ann", "Bo", "Cy"]);
    // Each arrived with the chunk that closed it, not at the end.
    assert!(seen_after[0].0 < seen_after[1].0 && seen_after[1].0 < seen_after[2].0);
    let closing_ann = text.find("}, {").expect("first close");
    assert_eq!(seen_after[0].0, closing_ann / 7);
}

#[test]
fn an_invalid_item_is_reported_with_its_index_and_does_not_poison_the_others() {
    let text = r#"[{"name": "Ann", "age": 30}, {"name": "Old", "age": 200}, {"name": 5, "age": 1}, {"name": "Cy", "age": 50}]"#;
    let mut stream = ItemStream::<User>::new(Context::new());
    let items = collect_items(&mut stream, text, 4);
    assert_eq!(items.len(), 4);
    assert_eq!(items[0].as_ref().map(|u| u.name.as_str()), Ok("Ann"));
    assert_eq!(
        items[1].as_ref().err().map(String::as_str),
        Some("item 1: age: must be at most 150 (it is 200)")
    );
    let third = items[2].as_ref().expect_err("name is a number");
    assert!(
        third.starts_with("item 2: name: expected a string, found 5"),
        "{third}"
    );
    assert_eq!(items[3].as_ref().map(|u| u.name.as_str()), Ok("Cy"));
}

#[test]
fn items_can_be_taken_from_a_named_key() {
    let text = r#"{"note": [1, 2], "users": [{"name": "Ann", "age": 30}]}"#;
    let mut stream = ItemStream::<User>::new(Context::new()).at_key("users");
    let items = collect_items(&mut stream, text, 1);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().map(|u| u.age), Ok(30));
}

#[test]
fn an_answer_without_a_list_is_an_error() {
    let mut stream = ItemStream::<User>::new(Context::new());
    assert!(
        stream
            .feed(br#"{"name": "Ann"}"#)
            .expect("valid")
            .is_empty()
    );
    let error = stream.finish().expect_err("no list");
    assert!(error.to_string().contains("no list of items"), "{error}");
}

#[test]
fn paths_in_field_events_use_wire_names() {
    #[derive(Debug, Deserialize, Extract)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Renamed {
        first_name: String,
    }
    let mut stream = PartialStream::<Renamed>::new();
    let mut paths = Vec::new();
    stream
        .feed_with_events(br#"{"firstName": "Ann"}"#, |e| {
            paths.push(e.path().to_vec())
        })
        .expect("valid");
    assert!(paths.contains(&vec![PathSegment::Key("firstName".into())]));
    assert_eq!(
        stream.partial().and_then(|p| p.first_name.clone()),
        Some("Ann".to_owned())
    );
}

mod policies {
    use super::*;
    use instructor::FieldState;

    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Step {
        #[extract(stream(required))]
        id: u32,
        text: String,
    }

    #[derive(Debug, Deserialize, Extract)]
    #[extract(stream(done))]
    #[allow(dead_code)]
    struct Citation {
        source: String,
        page: u32,
    }

    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Answer {
        title: String,
        #[extract(stream(done))]
        verdict: String,
        steps: Vec<Step>,
        citations: Vec<Citation>,
    }

    const ANSWER: &str = r#"{"title": "Plan", "verdict": "approved with changes",
        "steps": [{"text": "first draft the plan", "id": 1}, {"id": 2, "text": "then review it"}],
        "citations": [{"source": "handbook", "page": 12}]}"#;

    fn snapshots(size: usize) -> Vec<PartialAnswer> {
        let mut stream = PartialStream::<Answer>::new();
        let mut out = Vec::new();
        for chunk in ANSWER.as_bytes().chunks(size) {
            if let Some(partial) = stream.feed(chunk).expect("valid") {
                out.push(partial.clone());
            }
        }
        stream.finish(&Context::new()).expect("valid answer");
        out
    }

    #[test]
    fn a_done_field_appears_only_whole() {
        for snapshot in snapshots(3) {
            if let Some(verdict) = &snapshot.verdict {
                assert_eq!(verdict, "approved with changes");
            }
        }
    }

    #[test]
    fn a_done_type_appears_only_whole() {
        for snapshot in snapshots(2) {
            for citation in snapshot.citations.iter().flatten() {
                assert_eq!(citation.source.as_deref(), Some("handbook"));
                assert_eq!(citation.page, Some(12));
                assert_eq!(citation.page_state(), FieldState::Complete);
            }
        }
    }

    #[test]
    fn a_parent_waits_for_its_required_field() {
        let all = snapshots(2);
        for snapshot in &all {
            for step in snapshot.steps.iter().flatten() {
                assert!(
                    step.id.is_some(),
                    "a step was shown before its id: {step:?}"
                );
            }
        }
        // The first step's text comes before its id on the wire: once shown, its text
        // is already whole. The second step's id comes first: its text then grows.
        let first_texts: Vec<&str> = all
            .iter()
            .filter_map(|s| s.steps.as_ref()?.first()?.text.as_deref())
            .collect();
        assert!(
            first_texts.iter().all(|t| *t == "first draft the plan"),
            "{first_texts:?}"
        );
        let second_texts: Vec<&str> = all
            .iter()
            .filter_map(|s| s.steps.as_ref()?.get(1)?.text.as_deref())
            .collect();
        assert!(
            second_texts.len() > 2,
            "the second step's text grows: {second_texts:?}"
        );
        assert!(second_texts.windows(2).all(|w| w[1].starts_with(w[0])));
    }

    #[test]
    fn each_field_says_whether_it_is_absent_in_progress_or_complete() {
        let mut stream = PartialStream::<Answer>::new();
        stream.feed(br#"{"title": "Pl"#).expect("valid");
        let partial = stream.partial().expect("started");
        assert_eq!(partial.title_state(), FieldState::InProgress);
        assert_eq!(partial.verdict_state(), FieldState::Absent);
        assert_eq!(partial.steps_state(), FieldState::Absent);
        stream
            .feed(br#"an", "steps": [{"id": 1, "text": "a"}"#)
            .expect("valid");
        let partial = stream.partial().expect("started");
        assert_eq!(partial.title_state(), FieldState::Complete);
        assert_eq!(partial.steps_state(), FieldState::InProgress);
        let step = &partial.steps.as_ref().expect("steps")[0];
        assert_eq!(step.id_state(), FieldState::Complete);
        assert_eq!(step.text_state(), FieldState::Complete);
        stream.feed(b"]").expect("valid");
        assert_eq!(
            stream.partial().expect("started").steps_state(),
            FieldState::Complete
        );
    }

    #[test]
    fn completing_a_string_is_a_visible_change() {
        let mut stream = PartialStream::<Answer>::new();
        assert!(stream.feed(br#"{"title": "Plan"#).expect("valid").is_some());
        let done = stream.feed(br#"""#).expect("valid").expect("a snapshot");
        assert_eq!(done.title_state(), FieldState::Complete);
    }
}

mod early_validation {
    use super::*;

    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Review {
        #[garde(length(chars, min = 5))]
        headline: String,
        #[garde(range(min = 1, max = 5))]
        stars: u8,
        #[garde(length(max = 2))]
        pros: Vec<String>,
        sections: Vec<Section>,
    }

    #[test]
    fn a_field_is_judged_only_once_complete() {
        let mut stream = PartialStream::<Review>::new();
        // "Ok" is shorter than 5 characters, but still streaming: not judged yet.
        stream.feed(br#"{"headline": "Ok"#).expect("valid");
        assert_eq!(stream.validate_partial(&Context::new()), Ok(()));
        stream.feed(br#"", "stars": 9"#).expect("valid");
        // The headline is now complete and too short; 9 is not terminated yet.
        let errors = stream
            .validate_partial(&Context::new())
            .expect_err("short headline");
        assert_eq!(
            errors.to_string(),
            "headline: must be at least 5 characters long (it has 2)"
        );
        stream.feed(b", ").expect("valid");
        let errors = stream
            .validate_partial(&Context::new())
            .expect_err("two errors");
        assert_eq!(errors.errors().len(), 2, "{errors}");
        assert!(
            errors
                .to_string()
                .contains("stars: must be at most 5 (it is 9)"),
            "{errors}"
        );
    }

    #[test]
    fn a_list_rule_waits_for_the_list_to_close_but_items_are_judged_as_they_complete() {
        let mut stream = PartialStream::<Review>::new();
        stream
            .feed(br#"{"headline": "Great stuff", "stars": 5, "pros": ["a", "b", "c""#)
            .expect("valid");
        // Three pros already, over the limit, but the list is still open: the rule
        // waits for it to close.
        assert_eq!(stream.validate_partial(&Context::new()), Ok(()));
        stream
            .feed(
                br#"], "sections": [{"title": "x", "score": 3.0, "tags": []}, {"title": "y", "sc"#,
            )
            .expect("valid");
        let errors = stream
            .validate_partial(&Context::new())
            .expect_err("invalid");
        let text = errors.to_string();
        assert!(
            text.contains("pros: must have a length of at most 2 (it has 3)"),
            "{text}"
        );
        assert!(
            text.contains("sections[0].score: must be at most 1 (it is 3)"),
            "{text}"
        );
        assert!(!text.contains("sections[1]"), "{text}");
    }
}
