//! The streaming front of lenient mode: passes on only the bytes of the JSON value in
//! a prompted answer, skipping prose, `<think>` blocks and code-fence markers, with
//! markers allowed to be split across chunks.

use std::ops::Range;

const THINK_OPEN: &[u8] = b"<think>";
const THINK_CLOSE: &[u8] = b"</think>";
const FENCE: &[u8] = b"```";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for `{`, `[`, a fence or a think block.
    Prose,
    /// Inside `<think>`, looking for `</think>`.
    Think,
    /// After an opening fence, skipping its language tag up to the newline.
    FenceHeader,
    /// Inside a fence, before the JSON starts.
    FenceBody,
    /// Passing bytes on to the parser.
    Json,
    /// The value ended: the rest is ignored.
    Done,
}

/// What the gate skipped, for the repair report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Skipped {
    /// Prose before the JSON.
    pub prose: bool,
    /// `<think>` blocks.
    pub think: bool,
    /// A code fence around the JSON.
    pub fence: bool,
}

/// Splits a prompted answer into what the JSON parser must see.
#[derive(Debug)]
pub struct Gate {
    state: State,
    /// A marker the previous chunk ended inside of, and how much of it it held.
    partial_marker: Option<(&'static [u8], usize)>,
    /// What has been skipped.
    pub skipped: Skipped,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            state: State::Prose,
            partial_marker: None,
            skipped: Skipped::default(),
        }
    }
}

impl Gate {
    /// Tells the gate that the parser finished the value: nothing more is passed on.
    pub fn done(&mut self) {
        self.state = State::Done;
    }

    /// The part of `chunk` that belongs to the JSON value, if any. Call again with the
    /// rest of the chunk after the returned range when the parser finished the value
    /// inside it (the gate is then done).
    pub fn json_range(&mut self, chunk: &[u8]) -> Option<Range<usize>> {
        let mut i = 0;
        while i < chunk.len() {
            match self.state {
                State::Json => return Some(i..chunk.len()),
                State::Done => return None,
                State::Prose => {
                    if let Some(after) = self.marker(chunk, &mut i, FENCE) {
                        self.skipped.fence = true;
                        self.state = State::FenceHeader;
                        i = after;
                        continue;
                    }
                    if let Some(after) = self.marker(chunk, &mut i, THINK_OPEN) {
                        self.skipped.think = true;
                        self.state = State::Think;
                        i = after;
                        continue;
                    }
                    match chunk.get(i) {
                        Some(b'{' | b'[') => {
                            self.state = State::Json;
                        }
                        Some(byte) => {
                            if !byte.is_ascii_whitespace() {
                                self.skipped.prose = true;
                            }
                            i += 1;
                        }
                        None => {}
                    }
                }
                State::Think => {
                    if let Some(after) = self.marker(chunk, &mut i, THINK_CLOSE) {
                        self.state = State::Prose;
                        i = after;
                    } else if i < chunk.len() {
                        i += 1;
                    }
                }
                State::FenceHeader => {
                    if chunk[i] == b'\n' {
                        self.state = State::FenceBody;
                    }
                    i += 1;
                }
                State::FenceBody => match chunk[i] {
                    b'{' | b'[' => self.state = State::Json,
                    _ => i += 1,
                },
            }
        }
        None
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
        let wanted = &marker[already..];
        let available = &chunk[*i..];
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
