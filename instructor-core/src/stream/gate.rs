//! The streaming front of lenient mode, for the partials only: passes on the bytes of
//! the value the answer most likely holds, skipping prose, `<think>` blocks and
//! code-fence markers, with markers allowed to be split across chunks.
//!
//! The gate looks at each byte once. It follows the reading of
//! [`read_lenient`](super::read_lenient) where it can without looking back: a value
//! that fails to parse gives way to the next `{` or `[`; a fenced value after a value
//! in prose, or a value after a `</think>` that had no opening tag, starts the partial
//! over. The final value is not the gate's to decide: the stream's end reads the whole
//! answer with `read_lenient`, so whole and streamed answers agree.

use std::ops::Range;

const THINK_OPEN: &[u8] = b"<think>";
const THINK_CLOSE: &[u8] = b"</think>";
const FENCE: &[u8] = b"```";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for `{`, `[`, a fence or a think block.
    Prose,
    /// Inside `<think>`, looking for `</think>`; then back to `resume`.
    Think { after_value: bool },
    /// After an opening fence, skipping its language tag.
    FenceHeader,
    /// Inside a fence, before the JSON starts.
    FenceBody,
    /// Passing bytes on to the parser.
    Json { fenced: bool },
    /// A value in prose ended: only a fence (a better value) or a `</think>` (what
    /// came before was reasoning) starts another.
    AfterValue,
    /// A fenced value ended: the rest is ignored.
    Done,
}

/// Splits a prompted answer into what the JSON parser must see.
#[derive(Debug)]
pub struct Gate {
    state: State,
    /// A marker the previous chunk ended inside of, and how much of it it held.
    partial_marker: Option<(&'static [u8], usize)>,
    /// A new value starts: the parser and the partial start over.
    fresh: bool,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            state: State::Prose,
            partial_marker: None,
            fresh: false,
        }
    }
}

impl Gate {
    /// The parser finished the value (`non_empty`: it had members or elements).
    pub fn value_ended(&mut self, non_empty: bool) {
        self.state = match self.state {
            // `[]` or `{}` (a mention in prose, an empty fence) gives way to any value.
            _ if !non_empty => State::Prose,
            State::Json { fenced: true } => State::Done,
            _ => State::AfterValue,
        };
    }

    /// The parser failed on the value: the next one may do better.
    pub fn value_failed(&mut self) {
        self.state = State::Prose;
    }

    /// Whether a new value started since the last call (the parser and the partial
    /// must start over).
    pub fn take_fresh(&mut self) -> bool {
        std::mem::take(&mut self.fresh)
    }

    /// The part of `chunk` that belongs to the JSON value, if any. When the parser
    /// finishes (or fails on) the value inside that part, tell the gate and call again
    /// with the rest of the chunk.
    pub fn json_range(&mut self, chunk: &[u8]) -> Option<Range<usize>> {
        let mut i = 0;
        while i < chunk.len() {
            match self.state {
                State::Json { .. } => return Some(i..chunk.len()),
                State::Done => return None,
                State::Prose | State::AfterValue => {
                    let after_value = self.state == State::AfterValue;
                    if let Some(after) = self.marker(chunk, &mut i, FENCE) {
                        self.state = State::FenceHeader;
                        i = after;
                        continue;
                    }
                    if after_value && let Some(after) = self.marker(chunk, &mut i, THINK_CLOSE) {
                        self.state = State::Prose;
                        i = after;
                        continue;
                    }
                    if let Some(after) = self.marker(chunk, &mut i, THINK_OPEN) {
                        self.state = State::Think { after_value };
                        i = after;
                        continue;
                    }
                    match chunk.get(i) {
                        Some(b'{' | b'[') if !after_value => self.start(false),
                        Some(_) => i += 1,
                        None => {}
                    }
                }
                State::Think { after_value } => {
                    if let Some(after) = self.marker(chunk, &mut i, THINK_CLOSE) {
                        self.state = if after_value {
                            State::AfterValue
                        } else {
                            State::Prose
                        };
                        i = after;
                    } else if i < chunk.len() {
                        i += 1;
                    }
                }
                State::FenceHeader => match chunk.get(i) {
                    Some(b)
                        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'.') =>
                    {
                        i += 1;
                    }
                    // The body may start on the fence's own line.
                    _ => self.state = State::FenceBody,
                },
                State::FenceBody => {
                    if let Some(after) = self.marker(chunk, &mut i, FENCE) {
                        // A fence without JSON closes.
                        self.state = State::Prose;
                        i = after;
                        continue;
                    }
                    match chunk.get(i) {
                        Some(b'{' | b'[') => self.start(true),
                        Some(_) => i += 1,
                        None => {}
                    }
                }
            }
        }
        None
    }

    fn start(&mut self, fenced: bool) {
        self.state = State::Json { fenced };
        self.fresh = true;
    }

    /// Whether `marker` starts at `chunk[*i..]`, continuing the marker the previous
    /// chunk ended inside of; returns the index after it. A marker cut by the end of
    /// the chunk is remembered and `*i` moves to the end.
    fn marker(&mut self, chunk: &[u8], i: &mut usize, marker: &'static [u8]) -> Option<usize> {
        let already = match self.partial_marker {
            Some((pending, held)) if *i == 0 => {
                if pending != marker {
                    return None;
                }
                held
            }
            _ => 0,
        };
        let wanted = marker.get(already..).unwrap_or_default();
        let available = chunk.get(*i..).unwrap_or_default();
        if available.len() >= wanted.len() {
            if available.starts_with(wanted) {
                self.partial_marker = None;
                return Some(*i + wanted.len());
            }
        } else if !available.is_empty() && wanted.starts_with(available) {
            // The chunk ends inside the marker.
            self.partial_marker = Some((marker, already + available.len()));
            *i = chunk.len();
            return None;
        }
        if already > 0 {
            // The held bytes were not this marker after all: they were plain text.
            self.partial_marker = None;
        }
        None
    }
}
