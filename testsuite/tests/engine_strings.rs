//! The streaming engine's string path: runs of plain text are scanned eight bytes at a
//! time and strings grow in jumps, so every kind of byte (a quote, a backslash, a
//! control character, the bytes of multi-byte UTF-8) is placed at every offset of an
//! eight-byte word and the document fed in every chunk size; the partial and the final
//! value must spell exactly what serde_json reads, and a bad byte must be refused at
//! the same offset however the text is cut.

use instructor::prelude::*;
use instructor::stream::{ParseErrorKind, PartialStream, StreamError};

#[derive(Debug, Deserialize, Extract)]
struct Note {
    text: String,
    tags: Vec<String>,
}

/// Pieces of string content as written in JSON, each a different kind of byte for the
/// scanner: plain ASCII, escapes, multi-byte UTF-8 (the lead byte of `“` is the stop
/// byte of curly-quoted strings), DEL and the last byte before the control range.
const PIECES: &[&str] = &[
    "a",
    "\\\"",
    "\\\\",
    "\\n",
    "\\u0001",
    "\\ud83d\\ude00",
    "é",
    "—",
    "“",
    "😀",
    "\u{7f}",
    " ",
    "~",
];

/// A document whose `text` holds `piece` after `offset` bytes of padding, long
/// enough to span several eight-byte words, and a short tag beside it.
fn document(piece: &str, offset: usize) -> String {
    let padding = "x".repeat(offset);
    format!(
        r#"{{"text": "{padding}{piece}{padding}{piece} and more text after it, long enough", "tags": ["{piece}", "q{padding}"]}}"#
    )
}

fn feed_all(doc: &[u8], size: usize) -> Result<(PartialNote, Note), StreamError> {
    let mut stream = PartialStream::<Note>::new();
    for chunk in doc.chunks(size) {
        stream.feed(chunk)?;
    }
    let partial = stream.partial().cloned().expect("a partial");
    let value = stream.finish(&Context::new())?;
    Ok((partial, value))
}

#[test]
fn every_kind_of_byte_at_every_offset_in_every_chunking_reads_as_serde_does() {
    for piece in PIECES {
        for offset in 0..17 {
            let doc = document(piece, offset);
            let expected: serde_json::Value = serde_json::from_str(&doc).expect("valid JSON");
            let text = expected["text"].as_str().expect("text");
            let tag = expected["tags"][0].as_str().expect("tag");
            for size in 1..=17 {
                let (partial, value) = feed_all(doc.as_bytes(), size)
                    .unwrap_or_else(|e| panic!("{doc} in chunks of {size}: {e}"));
                assert_eq!(value.text, text, "{doc} in chunks of {size}");
                assert_eq!(value.tags[0], tag, "{doc} in chunks of {size}");
                assert_eq!(partial.text.as_deref(), Some(text), "{doc} / {size}");
                assert_eq!(partial.tags.as_ref().map(|t| t[0].as_str()), Some(tag));
            }
        }
    }
}

#[test]
fn a_partial_string_grows_by_exactly_what_arrived() {
    // Every prefix of a long string shows as the partial, byte for byte, whatever
    // capacity the string holds behind it.
    let body = "The quarterly numbers moved by 12% — mostly in the north. ".repeat(12);
    let doc = format!(r#"{{"text": "{body}", "tags": []}}"#);
    let start = doc.find(&body).expect("the body");
    let mut stream = PartialStream::<Note>::new();
    for (index, chunk) in doc.as_bytes().chunks(3).enumerate() {
        stream.feed(chunk).expect("valid");
        let end = ((index + 1) * 3).min(doc.len());
        if end > start && end <= start + body.len() {
            let mut shown_up_to = end - start;
            while !body.is_char_boundary(shown_up_to) {
                shown_up_to -= 1;
            }
            let text = stream.partial().and_then(|p| p.text.as_deref());
            assert_eq!(text, Some(&body[..shown_up_to]), "after {end} bytes");
        }
    }
}

#[test]
fn a_bad_byte_is_refused_at_its_offset_however_the_text_is_cut() {
    for (bad, kind) in [
        (&b"\x01"[..], ParseErrorKind::ControlCharacter),
        (b"\n", ParseErrorKind::ControlCharacter),
        (b"\x1f", ParseErrorKind::ControlCharacter),
        (b"\xff", ParseErrorKind::InvalidUtf8),
        (b"\x80", ParseErrorKind::InvalidUtf8),
    ] {
        for offset in 0..17 {
            let mut doc = br#"{"text": ""#.to_vec();
            doc.extend(std::iter::repeat_n(b'x', offset));
            let at = doc.len() as u64;
            doc.extend_from_slice(bad);
            doc.extend_from_slice(br#"yyyyyyyyyyyyyyyy", "tags": []}"#);
            for size in 1..=17 {
                match feed_all(&doc, size) {
                    Err(StreamError::Parse(error)) => {
                        assert_eq!(error.kind, kind, "offset {offset}, chunks of {size}");
                        assert_eq!(error.offset, at, "offset {offset}, chunks of {size}");
                    }
                    other => panic!("offset {offset}, chunks of {size}: {other:?}"),
                }
            }
        }
    }
}
