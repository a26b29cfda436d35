//! Routing hints change nothing but speed: a stream that remembers which field each key
//! of its path resolved to builds, after every chunk, exactly the partial that applying
//! the same events without hints builds, and at the end the partial serde reads from
//! the whole document, for random documents of a nested type with flattened structs
//! (one inside another), a flattened map taking the keys no field takes, maps of
//! structs, lists, options and an internally tagged enum, in random chunkings; also
//! across a lenient stream that starts over on a better value written in another key
//! order. The same holds for the fast way of string fragments (`HasPartial::grow`),
//! which the stream takes and the reference never does: through boxes, options, lists
//! and flattened structs, and not into a field shown only whole.

use instructor::prelude::*;
use instructor::stream::{Limits, Parser, PartialStream};
use instructor::{Event, HasPartial, PathSegment, Scratch};
use proptest::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Owner {
    owner: String,
    rank: u32,
}

/// Flattened into `Item`, and flattens `Owner` itself: three tables route the same
/// key at the same depth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Base {
    #[serde(flatten)]
    who: Owner,
    kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[serde(tag = "type")]
enum Shape {
    Circle { radius: u32, label: String },
    Square { side: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Item {
    name: String,
    tags: Vec<String>,
    note: Option<String>,
    shape: Shape,
    #[serde(flatten)]
    base: Base,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Meta {
    author: String,
}

/// A flattened struct, then a flattened map that takes the keys no field takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Entry {
    id: u32,
    #[serde(flatten)]
    meta: Meta,
    #[serde(flatten)]
    extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Doc {
    title: String,
    items: Vec<Item>,
    entries: Vec<Entry>,
    /// Map keys that are field names elsewhere (`name`, `owner`) must not be taken for
    /// fields.
    by_key: BTreeMap<String, Item>,
    grid: Vec<Vec<u32>>,
    /// Shown only whole: the fast way for string fragments leaves it to the general one.
    #[extract(stream(done))]
    #[serde(default)]
    summary: String,
    /// Strings reached through an option and a box.
    #[serde(default)]
    boxed: Option<Box<Owner>>,
}

/// Text with the bytes that make the engine take its slow paths (escapes, multi-byte
/// characters, quotes).
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a", "body ", "é", "😀", "\"", "\\", "\n", "{", "}", ":", ",", "name", "owner",
        ]),
        0..8,
    )
    .prop_map(|pieces| pieces.concat())
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        (any::<u32>(), text()).prop_map(|(radius, label)| Shape::Circle { radius, label }),
        any::<u32>().prop_map(|side| Shape::Square { side }),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    (
        (
            text(),
            prop::collection::vec(text(), 0..3),
            prop::option::of(text()),
        ),
        shape(),
        (text(), any::<u32>(), text()),
    )
        .prop_map(|((name, tags, note), shape, (owner, rank, kind))| Item {
            name,
            tags,
            note,
            shape,
            base: Base {
                who: Owner { owner, rank },
                kind,
            },
        })
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        any::<u32>(),
        text(),
        prop::collection::btree_map(
            prop::sample::select(vec!["x", "color", "name", "é", ""]).prop_map(str::to_owned),
            text(),
            0..3,
        ),
    )
        .prop_map(|(id, author, extra)| Entry {
            id,
            meta: Meta { author },
            extra,
        })
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        text(),
        prop::collection::vec(item(), 0..4),
        prop::collection::vec(entry(), 0..3),
        prop::collection::btree_map(
            prop::sample::select(vec!["name", "owner", "title", "k", "type"])
                .prop_map(str::to_owned),
            item(),
            0..3,
        ),
        prop::collection::vec(prop::collection::vec(any::<u32>(), 0..3), 0..3),
        (text(), prop::option::of((text(), any::<u32>()))),
    )
        .prop_map(
            |(title, items, entries, by_key, grid, (summary, boxed))| Doc {
                title,
                items,
                entries,
                by_key,
                grid,
                summary,
                boxed: boxed.map(|(owner, rank)| Box::new(Owner { owner, rank })),
            },
        )
}

/// The JSON of `doc` with the members of every object in an order picked by `seed`
/// (serde reads any order; the hints must not care either).
fn shuffled(value: serde_json::Value, seed: u64) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut members: Vec<_> = map.into_iter().collect();
            if !members.is_empty() {
                let turn = (seed as usize) % members.len();
                members.rotate_left(turn);
                if seed & 1 == 1 {
                    members.reverse();
                }
            }
            let mut out = serde_json::Map::new();
            for (key, member) in members {
                out.insert(key, shuffled(member, seed.rotate_left(7) ^ 0x9e37));
            }
            serde_json::Value::Object(out)
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(
            items
                .into_iter()
                .map(|item| shuffled(item, seed.wrapping_mul(31).wrapping_add(1)))
                .collect(),
        ),
        other => other,
    }
}

/// `doc` as JSON text, its members in the order `seed` picks.
fn text_of(doc: &Doc, seed: u64) -> Vec<u8> {
    let value = serde_json::to_value(doc).expect("a value serializes");
    serde_json::to_vec(&shuffled(value, seed)).expect("JSON serializes")
}

/// `text` cut at the given points (each taken modulo the length).
fn chunks(text: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|cut| cut % (text.len() + 1))
        .chain([0, text.len()])
        .collect();
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|pair| text[pair[0]..pair[1]].to_vec())
        .collect()
}

/// Applies the parser's events to a partial through `HasPartial` alone, with a scratch
/// whose routing is never told the path: the reference without hints.
struct Unhinted<T: HasPartial> {
    parser: Parser,
    partial: Option<T::Partial>,
    scratch: Scratch,
}

impl<T: HasPartial> Unhinted<T> {
    fn new() -> Self {
        Unhinted {
            parser: Parser::new(),
            partial: None,
            scratch: Scratch::default(),
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        let (partial, scratch) = (&mut self.partial, &mut self.scratch);
        let mut sink = |path: &[PathSegment], event: Event<'_>| {
            // Built afresh for every event: never the parser's own path.
            let path = path.to_vec();
            T::apply_slot(partial, &path, &event, scratch).map(|_| ())
        };
        self.parser
            .feed(chunk, &mut sink)
            .expect("the reference applies every event");
    }
}

/// The partial with its field states, as a UI receives it.
fn shown<P: Serialize>(partial: Option<&P>) -> serde_json::Value {
    serde_json::to_value(partial).expect("a partial serializes")
}

/// A value's JSON without field states and `null` members: a complete partial and the
/// value serde reads then have the same JSON (a partial leaves a `null` option out).
fn data(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(members) => serde_json::Value::Object(
            members
                .into_iter()
                .filter(|(key, member)| key != "$state" && !member.is_null())
                .map(|(key, member)| (key, data(member)))
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(data).collect())
        }
        other => other,
    }
}

/// What serde reads from the whole document, as a partial would show it.
fn serde_reading(json: &[u8]) -> serde_json::Value {
    let value: Doc = serde_json::from_slice(json).expect("serde reads the document");
    data(serde_json::to_value(value).expect("a value serializes"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hinted_partials_equal_unhinted_ones_and_serdes(
        doc in doc(),
        seed in any::<u64>(),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let json = text_of(&doc, seed);
        let mut stream = PartialStream::<Doc>::new();
        let mut reference = Unhinted::<Doc>::new();
        // A snapshot held over some chunks: the stream's next change then copies the
        // partial, and the place of the string being grown must lead into the copy.
        let mut held: Option<(Option<std::sync::Arc<PartialDoc>>, Option<PartialDoc>)> = None;
        for (at, chunk) in chunks(&json, &cuts).into_iter().enumerate() {
            stream.feed(&chunk).expect("a valid document streams");
            reference.feed(&chunk);
            prop_assert_eq!(stream.partial(), reference.partial.as_ref());
            prop_assert_eq!(shown(stream.partial()), shown(reference.partial.as_ref()));
            // The snapshot still shows the partial as it was when it was taken.
            if let Some((snapshot, then)) = held.take() {
                prop_assert_eq!(snapshot.as_deref(), then.as_ref());
            }
            if seed.rotate_left(at as u32 % 64) & 1 == 1 {
                held = Some((stream.shared(), reference.partial.clone()));
            }
        }
        prop_assert_eq!(data(shown(stream.partial())), serde_reading(&json));
        let value = stream.finish(&Context::new()).expect("a valid document");
        prop_assert_eq!(value, serde_json::from_slice::<Doc>(&json).expect("serde reads it"));
    }

    #[test]
    fn a_lenient_stream_that_starts_over_routes_the_new_value_afresh(
        draft in doc(),
        better in doc(),
        seeds in (any::<u64>(), any::<u64>()),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let draft_json = String::from_utf8(text_of(&draft, seeds.0)).expect("JSON is UTF-8");
        let better_json = String::from_utf8(text_of(&better, seeds.1)).expect("JSON is UTF-8");
        let answer = format!("A draft: {draft_json}\nThe answer:\n```json\n{better_json}\n```\n");
        let mut stream = PartialStream::<Doc>::lenient(Limits::default());
        for chunk in chunks(answer.as_bytes(), &cuts) {
            stream.feed(&chunk).expect("a lenient stream takes any text");
        }
        prop_assert_eq!(data(shown(stream.partial())), serde_reading(better_json.as_bytes()));
        let value = stream.finish(&Context::new()).expect("the fenced value");
        prop_assert_eq!(value, better);
    }
}

/// A key that comes back at the same depth after other keys is routed afresh each
/// time: the same member name in consecutive objects of a list, in another order.
#[test]
fn keys_in_another_order_in_the_next_object_go_to_their_own_fields() {
    let json = br#"{"title": "t", "items": [], "entries": [{"id": 1, "author": "a1", "x": "y", "name": "n"}, {"name": "m", "author": "a2", "id": 2}], "by_key": {"name": {"name": "n1", "tags": ["a"], "note": null, "shape": {"type": "Square", "side": 2}, "owner": "o1", "rank": 1, "kind": "k1"}, "owner": {"kind": "k2", "rank": 2, "owner": "o2", "shape": {"side": 3, "type": "Square"}, "note": "m", "tags": [], "name": "n2"}}, "grid": [[1], []]}"#;
    for size in [1, 2, 3, 5, 8, 13] {
        let mut stream = PartialStream::<Doc>::new();
        for chunk in json.chunks(size) {
            stream.feed(chunk).expect("valid");
        }
        let partial = stream.partial().cloned().expect("a partial");
        let by_key = partial.by_key.expect("by_key");
        let first = &by_key["name"];
        let second = &by_key["owner"];
        assert_eq!(first.name.as_deref(), Some("n1"));
        assert_eq!(second.name.as_deref(), Some("n2"));
        let base = second.base.as_ref().expect("base");
        assert_eq!(base.kind.as_deref(), Some("k2"));
        assert_eq!(base.who.as_ref().expect("who").owner.as_deref(), Some("o2"));
        let entries = partial.entries.expect("entries");
        assert_eq!(entries[0].extra.as_ref().expect("extra")["name"], "n");
        assert_eq!(entries[1].extra.as_ref().expect("extra")["name"], "m");
        assert!(
            !entries[1]
                .extra
                .as_ref()
                .expect("extra")
                .contains_key("author")
        );
        let meta = entries[1].meta.as_ref().expect("meta");
        assert_eq!(meta.author.as_deref(), Some("a2"));
        let value = stream.finish(&Context::new()).expect("valid");
        assert_eq!(value.by_key["owner"].base.who.rank, 2);
    }
}

/// Strings at the depth the kept place holds (eight steps: a field and seven list
/// levels) and past it (ten steps, routed from the root every time), in every small
/// chunking: the same partial as the reference after every chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Deep {
    at_limit: Lists7,
    past_limit: Vec<Vec<Lists7>>,
    after: String,
}

/// Strings seven lists down.
type Lists7 = Vec<Vec<Vec<Lists4>>>;
type Lists4 = Vec<Vec<Vec<Vec<String>>>>;

#[test]
fn strings_at_and_past_the_depth_of_a_kept_place_stream_as_routed_ones() {
    let text = "a long string that spans many chunks, é and \\\"escapes\\\" too";
    let json = format!(
        r#"{{"at_limit": [[[[[[["{text}", "{text}"]]]]]]], "past_limit": [[[[[[[[["{text}"], ["{text}"]]]]]]]]], "after": "{text}"}}"#
    );
    let expected: Deep = serde_json::from_str(&json).expect("serde reads it");
    for size in 1..=9 {
        let mut stream = PartialStream::<Deep>::new();
        let mut reference = Unhinted::<Deep>::new();
        for chunk in json.as_bytes().chunks(size) {
            stream.feed(chunk).expect("valid");
            reference.feed(chunk);
            assert_eq!(
                stream.partial(),
                reference.partial.as_ref(),
                "{size}-byte chunks"
            );
        }
        let value = stream.finish(&Context::new()).expect("valid");
        assert_eq!(value, expected);
    }
}
