//! One lenient reading: a sloppy prompted answer gives the same value, the same
//! repairs or the same error whether it is read whole (`read_lenient`, behind
//! `.await`) or streamed in any chunking (`PartialStream::lenient` then `finish`,
//! behind `.partial()`), and feeding a lenient stream never fails on the text.

use instructor::prelude::*;
use instructor::stream::{Lenient, Limits, PartialStream, StreamError, read_lenient};
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct Note {
    title: String,
    score: u32,
    tags: Vec<String>,
    done: Option<bool>,
}

/// Pieces of a title as a model writes it inside quotes, escapes and markup included.
fn title() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "Fix",
            " ",
            "login",
            "é",
            "😀",
            "<think>x</think>",
            "```",
            "</think>",
            r"\'",
            r"\n",
            r#"\""#,
            "\"",
            "'",
            "{",
            "}",
            "[]",
            r"\ud800",
            "“",
            "”",
            ",",
            ":",
        ]),
        0..6,
    )
    .prop_map(|pieces| pieces.concat())
}

/// A key as written: quoted, unquoted, single- or curly-quoted, in another case.
fn key(name: &'static str) -> impl Strategy<Value = String> {
    prop::sample::select(vec![0u8, 1, 2, 3, 4]).prop_map(move |style| match style {
        0 => format!("\"{name}\""),
        1 => name.to_owned(),
        2 => format!("'{name}'"),
        3 => format!("“{name}”"),
        _ => format!("\"{}\"", name.to_uppercase()),
    })
}

/// A string value as written.
fn quoted(text: String) -> impl Strategy<Value = String> {
    prop::sample::select(vec![0u8, 1, 2]).prop_map(move |style| match style {
        0 => format!("\"{text}\""),
        1 => format!("'{text}'"),
        _ => format!("“{text}”"),
    })
}

/// What goes between members: a comma, sometimes none, a comment or a trailing one.
fn separator() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        ", ",
        ",\n",
        " ",
        ", // note\n",
        ", # note\n",
        ", /* c */ ",
    ])
    .prop_map(str::to_owned)
}

/// A `Note` written sloppily, sometimes cut off at the end.
fn note_text() -> impl Strategy<Value = String> {
    (
        (key("title"), title().prop_flat_map(quoted)),
        (
            key("score"),
            prop::sample::select(vec!["34", "\"34\"", "3.0", "\"$1,000\"", "-1", "3"]),
        ),
        (
            key("tags"),
            prop::sample::select(vec![
                "[\"a\", 'b',]",
                "'solo'",
                "[]",
                "\"[\\\"x\\\"]\"",
                "[a]",
            ]),
        ),
        (
            key("done"),
            prop::sample::select(vec![
                "True",
                "false",
                "None",
                "undefined",
                "\"yes\"",
                "null",
            ]),
        ),
        prop::collection::vec(separator(), 4),
        any::<bool>(),
        prop::option::weighted(0.3, any::<prop::sample::Index>()),
    )
        .prop_map(
            |((tk, tv), (sk, sv), (gk, gv), (dk, dv), seps, trailing, cut)| {
                let mut text = format!(
                    "{{{tk}: {tv}{}{sk}: {sv}{}{gk}: {gv}{}{dk}: {dv}{}}}",
                    seps[0],
                    seps[1],
                    seps[2],
                    if trailing { seps[3].as_str() } else { "" }
                );
                if let Some(cut) = cut {
                    let mut at = cut.index(text.len());
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    text.truncate(at);
                }
                text
            },
        )
}

/// An answer around zero or more notes: prose, reasoning, fences of every shape.
fn answer() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        prop::sample::select(vec![
            "Sure! ",
            "Here you go:\n",
            "I can't help with that. ",
            "Use {curly} braces. ",
            "an empty list [] ",
            "no. ",
            "</think>",
            "\n",
            "42 ",
            "```",
            "<think>",
        ])
        .prop_map(str::to_owned),
        note_text(),
        note_text().prop_map(|n| format!("<think>draft {n}</think>\n")),
        (
            prop::sample::select(vec!["json", "", "JSON", "python", "json5"]),
            prop::sample::select(vec!["\n", " ", "\njunk ", "\n// c\n"]),
            note_text(),
            any::<bool>(),
        )
            .prop_map(|(language, gap, note, closed)| {
                format!(
                    "```{language}{gap}{note}{}",
                    if closed { "\n```\n" } else { "" }
                )
            }),
    ];
    prop::collection::vec(segment, 0..5).prop_map(|segments| segments.concat())
}

fn streamed(text: &str, cuts: &[prop::sample::Index]) -> Result<Lenient<Note>, StreamError> {
    let bytes = text.as_bytes();
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.push(0);
    at.push(bytes.len());
    at.sort_unstable();
    at.dedup();
    let mut stream = PartialStream::<Note>::lenient(Limits::default());
    for pair in at.windows(2) {
        stream
            .feed(&bytes[pair[0]..pair[1]])
            .expect("feeding a lenient stream never fails on the text");
    }
    stream.finish_lenient(&Context::new())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn whole_and_streamed_answers_read_the_same_in_any_chunking(
        text in answer(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let whole = read_lenient::<Note>(&text);
        prop_assert_eq!(streamed(&text, &cuts), whole.clone(), "{:?}", text);
        // One byte at a time too.
        let mut stream = PartialStream::<Note>::lenient(Limits::default());
        for byte in text.as_bytes() {
            stream.feed(std::slice::from_ref(byte)).expect("never fails on the text");
        }
        prop_assert_eq!(stream.finish_lenient(&Context::new()), whole, "{:?}", text);
    }
}

#[test]
fn the_answers_the_issue_names_read_the_same_whole_and_streamed() {
    let clean = r#"{"title": "Fix", "score": 3, "tags": ["a"], "done": null}"#;
    for (text, expected) in [
        // A fence inside a string value.
        (
            "```json\n{\"title\": \"run ``` here\", \"score\": 3, \"tags\": [], \"done\": null}\n```"
                .to_owned(),
            Some("run ``` here"),
        ),
        // Junk between the fence line and `{`.
        (format!("```json\nHere it is: {clean}\n```"), Some("Fix")),
        // An unterminated string inside a fence: closed at the fence.
        (
            "```json\n{\"score\": 3, \"tags\": [], \"title\": \"Fix\n```\nThanks!".to_owned(),
            Some("Fix"),
        ),
        // A quote that cannot be read without guessing.
        (
            "```json\n{\"title\": \"Fix, \"score\": 3, \"tags\": [], \"done\": null}\n```"
                .to_owned(),
            None,
        ),
        // A valid value in the prose before a fence.
        (
            format!("Like {clean}, but:\n```json\n{}\n```", clean.replace("Fix", "Real")),
            Some("Real"),
        ),
        // Think tags inside a string value.
        (
            clean.replace("Fix", "a <think>x</think> b"),
            Some("a <think>x</think> b"),
        ),
    ] {
        let whole = read_lenient::<Note>(&text);
        assert_eq!(
            whole.as_ref().ok().map(|read| read.value.title.as_str()),
            expected,
            "{text:?}: {whole:?}"
        );
        for size in [1, 2, 5, 13, text.len()] {
            let mut stream = PartialStream::<Note>::lenient(Limits::default());
            for chunk in text.as_bytes().chunks(size) {
                stream.feed(chunk).expect("lenient");
            }
            assert_eq!(
                stream.finish_lenient(&Context::new()),
                whole,
                "{text:?} in chunks of {size}"
            );
        }
    }
}
