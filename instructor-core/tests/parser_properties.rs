//! Properties of the incremental parser, on random documents and random chunkings:
//! the same events and the same final value as a one-shot parse, that value equal to
//! serde_json's, and every prefix a valid partial consistent with jiter's partial mode
//! (the re-parse-per-chunk oracle).

use instructor_core::partial::ValueBuilder;
use instructor_core::stream::Parser;
use instructor_core::{Event, PathSegment};
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::convert::Infallible;

/// An event with owned data, adjacent string fragments merged (chunking decides where
/// fragments split; what they spell must not depend on it).
#[derive(Debug, Clone, PartialEq)]
enum Owned {
    Key(String),
    Begin(&'static str),
    End(&'static str),
    Text(String),
    Number(String),
    Bool(bool),
    Null,
}

fn events(bytes: &[u8], cuts: &[usize]) -> Result<Vec<(Vec<PathSegment>, Owned)>, String> {
    let mut parser = Parser::new();
    let mut out: Vec<(Vec<PathSegment>, Owned)> = Vec::new();
    let mut sink = |path: &[PathSegment], event: Event<'_>| -> Result<(), Infallible> {
        let owned = match event {
            Event::BeginObject => Owned::Begin("object"),
            Event::EndObject => Owned::End("object"),
            Event::BeginArray => Owned::Begin("array"),
            Event::EndArray => Owned::End("array"),
            Event::BeginString => Owned::Begin("string"),
            Event::EndString => Owned::End("string"),
            Event::StringFragment(text) => {
                if let Some((last_path, Owned::Text(previous))) = out.last_mut()
                    && last_path.as_slice() == path
                {
                    previous.push_str(text);
                    return Ok(());
                }
                Owned::Text(text.to_owned())
            }
            Event::Number(raw) => Owned::Number(raw.to_owned()),
            Event::Bool(b) => Owned::Bool(b),
            Event::Null => Owned::Null,
            Event::Key(key) => Owned::Key(key.to_owned()),
        };
        out.push((path.to_vec(), owned));
        Ok(())
    };
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let cut = cut.clamp(start, bytes.len());
        parser
            .feed(&bytes[start..cut], &mut sink)
            .map_err(|e| e.to_string())?;
        start = cut;
    }
    parser.finish(&mut sink).map_err(|e| e.to_string())?;
    Ok(out)
}

fn value(bytes: &[u8], cuts: &[usize]) -> Result<Value, String> {
    let mut parser = Parser::new();
    let mut builder = ValueBuilder::default();
    let mut done = None;
    let mut sink = |path: &[PathSegment], event: Event<'_>| {
        if let Some(v) = builder.push(path, &event)? {
            done = Some(v);
        }
        Ok::<_, instructor_core::PartialError>(())
    };
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let cut = cut.clamp(start, bytes.len());
        parser
            .feed(&bytes[start..cut], &mut sink)
            .map_err(|e| e.to_string())?;
        start = cut;
    }
    parser.finish(&mut sink).map_err(|e| e.to_string())?;
    done.ok_or_else(|| "no value".to_owned())
}

/// The value visible after a prefix: containers as far as they go, strings as far as
/// they go, scalars only once complete (what a typed partial shows).
fn visible_after(prefix: &[u8]) -> Option<Value> {
    let mut parser = Parser::new();
    let mut root: Option<Value> = None;
    let mut sink = |path: &[PathSegment], event: Event<'_>| -> Result<(), Infallible> {
        let new = match event {
            Event::BeginObject => Some(Value::Object(Map::new())),
            Event::BeginArray => Some(Value::Array(Vec::new())),
            Event::BeginString => Some(Value::String(String::new())),
            Event::Number(raw) => serde_json::from_str(raw).ok(),
            Event::Bool(b) => Some(Value::Bool(b)),
            Event::Null => Some(Value::Null),
            Event::StringFragment(text) => {
                if let Some(Value::String(s)) = locate(&mut root, path) {
                    s.push_str(text);
                }
                None
            }
            _ => None,
        };
        if let Some(new) = new {
            place(&mut root, path, new);
        }
        Ok(())
    };
    parser.feed(prefix, &mut sink).ok()?;
    root
}

fn locate<'a>(root: &'a mut Option<Value>, path: &[PathSegment]) -> Option<&'a mut Value> {
    let mut node = root.as_mut()?;
    for segment in path {
        node = match (segment, node) {
            (PathSegment::Key(k), Value::Object(map)) => map.get_mut(k.as_str())?,
            (PathSegment::Index(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

fn place(root: &mut Option<Value>, path: &[PathSegment], new: Value) {
    let Some((last, parent_path)) = path.split_last() else {
        *root = Some(new);
        return;
    };
    match (last, locate(root, parent_path)) {
        (PathSegment::Key(k), Some(Value::Object(map))) => {
            map.insert(k.clone(), new);
        }
        (PathSegment::Index(_), Some(Value::Array(items))) => items.push(new),
        _ => {}
    }
}

/// Whether `ours` shows nothing that `theirs` (jiter's partial) does not: jiter may
/// also show one trailing unfinished scalar, which ours holds back.
fn consistent(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() <= b.len()
                && b.len() <= a.len() + 1
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| consistent(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() <= b.len()
                && b.len() <= a.len() + 1
                && a.iter().zip(b).all(|(v, w)| consistent(v, w))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        "[\"\\\\/\u{0}-\u{1f}é€😀a-z]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A document as text, compact or pretty, with the cut points of a chunking.
fn document() -> impl Strategy<Value = (Value, Vec<u8>, Vec<usize>)> {
    (json_value(), any::<bool>()).prop_flat_map(|(value, pretty)| {
        let text = if pretty {
            serde_json::to_vec_pretty(&value)
        } else {
            serde_json::to_vec(&value)
        }
        .expect("serializes");
        let len = text.len();
        let cuts = prop::collection::vec(0..=len, 0..12).prop_map(|mut cuts| {
            cuts.sort_unstable();
            cuts
        });
        (Just(value), Just(text), cuts)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_chunking_gives_the_one_shot_events((_, text, cuts) in document()) {
        let one_shot = events(&text, &[]).expect("valid JSON");
        prop_assert_eq!(events(&text, &cuts).expect("valid JSON"), one_shot);
    }

    #[test]
    fn the_final_value_is_serde_json_s((_, text, cuts) in document()) {
        let expected: Value = serde_json::from_slice(&text).expect("valid JSON");
        prop_assert_eq!(value(&text, &cuts).expect("parses"), expected);
    }

    #[test]
    fn byte_by_byte_equals_one_shot((_, text, _) in document()) {
        let every_byte: Vec<usize> = (1..text.len()).collect();
        prop_assert_eq!(events(&text, &every_byte), events(&text, &[]));
    }

    #[test]
    fn every_prefix_is_a_partial_consistent_with_jiter((_, text, _) in document()) {
        for end in 0..=text.len() {
            let prefix = &text[..end];
            let ours = visible_after(prefix);
            let theirs = jiter_partial(prefix);
            match (&ours, &theirs) {
                (None, _) => {}
                (Some(ours), Some(theirs)) => prop_assert!(
                    consistent(ours, theirs),
                    "prefix {:?}: ours {} vs jiter {}",
                    String::from_utf8_lossy(prefix), ours, theirs
                ),
                // jiter's partial mode refuses some prefixes (inside a key, or a
                // literal); there it is no oracle.
                (Some(_), None) => {}
            }
        }
    }
}

/// jiter's partial parse of a prefix. jiter refuses a prefix that ends inside a
/// literal (`[n`) or a number too big for an i64, so such a tail is cut first: a typed
/// partial holds an unfinished scalar back anyway.
fn jiter_partial(prefix: &[u8]) -> Option<Value> {
    let parse = |bytes: &[u8]| {
        jiter::JsonValue::parse_owned(bytes, false, jiter::PartialMode::TrailingStrings)
            .ok()
            .map(|v| jiter_to_serde(&v))
    };
    parse(prefix).or_else(|| {
        let cut = prefix
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || b"+-.".contains(b)))
            .map_or(0, |i| i + 1);
        parse(&prefix[..cut])
    })
}

fn jiter_to_serde(value: &jiter::JsonValue<'_>) -> Value {
    match value {
        jiter::JsonValue::Null => Value::Null,
        jiter::JsonValue::Bool(b) => Value::Bool(*b),
        jiter::JsonValue::Int(i) => Value::from(*i),
        jiter::JsonValue::Float(f) => Value::from(*f),
        jiter::JsonValue::Str(s) => Value::String(s.to_string()),
        jiter::JsonValue::Array(items) => Value::Array(items.iter().map(jiter_to_serde).collect()),
        jiter::JsonValue::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), jiter_to_serde(v)))
                .collect(),
        ),
        #[allow(unreachable_patterns)]
        _ => Value::Null,
    }
}
