//! An incremental JSON parser: bytes in, path-addressed events out, each byte looked at
//! once.
//!
//! Chunks may split the input anywhere (inside a key, a string, an escape, a `\u`
//! surrogate pair, a UTF-8 sequence, a number or a literal); the state needed to go on
//! lives in the parser. String contents are handed out as borrowed fragments of the
//! chunk whenever no escape is involved, so the hot path copies nothing; numbers and
//! literals are emitted only once their last byte is known.

use crate::partial::{Event, PathSegment};
use std::fmt;

/// Limits that keep hostile input from exhausting the stack or memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of arrays and objects (default 128, like serde_json).
    pub max_depth: usize,
    /// Maximum total input in bytes (default: none).
    pub max_bytes: Option<u64>,
    /// Maximum length of one string or key, in bytes (default: none).
    pub max_string_bytes: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_bytes: None,
            max_string_bytes: None,
        }
    }
}

/// Whether the parser repairs sloppy JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// RFC 8259 JSON only; anything else is an error (tool calls and native JSON modes).
    ///
    /// One leniency serde_json shares: a lone UTF-16 surrogate (`"\ud800"`) is read as
    /// U+FFFD instead of failing the parse, because serde_json accepts it inside a
    /// field it ignores and the parser cannot know which fields those are. Whoever
    /// builds the value decides: [`Parser::lone_surrogates`] counts them.
    #[default]
    Strict,
    /// Also reads what weak models write, recording every repair (see [`RepairKind`]):
    /// `//`, `/* */` and `#` comments, trailing and missing commas, unquoted keys,
    /// single and curly quotes, unescaped quotes inside strings where the next byte
    /// shows they are text (`"He said "hi" twice"`), escapes JSON does not have
    /// (`\'`), Python and JavaScript literals (`True`, `None`, `NaN`, `undefined`), raw
    /// control characters in strings, and a truncated tail (closed at
    /// [`Parser::finish`]; a number or literal cut by the end is dropped, never kept
    /// as a guess).
    Lenient,
}

/// One repair the lenient parser (or the lenient pipeline) made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// Stream offset where it was made (0 for repairs of the whole value).
    pub offset: u64,
    /// Where in the document, in wire names.
    pub path: String,
    /// What was repaired.
    pub kind: RepairKind,
}

/// The kinds of [`Repair`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RepairKind {
    /// A `//`, `/* */` or `#` comment was skipped.
    Comment,
    /// A comma before `]` or `}` was dropped.
    TrailingComma,
    /// A missing comma between two members or elements was assumed.
    MissingComma,
    /// An unquoted key was read as a string.
    UnquotedKey,
    /// A single-quoted string was read.
    SingleQuotes,
    /// A non-JSON literal was read as JSON (`True` as `true`; `None`, `NaN`, `Infinity`
    /// or `undefined` as `null`).
    Literal {
        /// What was written.
        written: &'static str,
        /// What it was read as.
        read_as: &'static str,
    },
    /// A raw control character inside a string was kept.
    ControlCharacter,
    /// An escape JSON does not have was read: `\'` as `'`, any other (`\d`) as the
    /// backslash and the character, as written.
    InvalidEscape,
    /// A `\u` escape of a lone UTF-16 surrogate was read as U+FFFD.
    LoneSurrogate,
    /// A quote inside a string, followed by more text on the same line, was read as
    /// part of the string (`"He said "hi" twice"`).
    InnerQuote,
    /// A string in typographic quotes (`“name”`, `‘x’`) was read.
    CurlyQuotes,
    /// The input ended inside a string, which was closed.
    ClosedString,
    /// The input ended inside a value (or before a member's value), which was dropped.
    /// A number cut by the end of a truncated document is dropped too: `"age": 3` from
    /// an answer cut inside `34` is not a value.
    DroppedIncompleteValue,
    /// The input ended with containers open; they were closed.
    ClosedContainers {
        /// How many.
        count: usize,
    },
    /// Text around the JSON was skipped (prose, a code fence, a `<think>` block).
    SkippedText {
        /// What was skipped.
        what: String,
    },
    /// A value was converted to the type the schema asks for.
    Coerced {
        /// From what (`"25"`).
        from: String,
        /// To what (`25`).
        to: String,
    },
    /// The value was wrapped in an object named after the type, which was removed.
    Unwrapped {
        /// The wrapper key.
        key: String,
    },
    /// A key that differs from a field's wire name only by case, spaces or separators
    /// (`First Name`, `first-name`, `FirstName` for `first_name`) was renamed to it.
    RenamedKey {
        /// The key as written.
        from: String,
        /// The field's wire name.
        to: String,
    },
    /// Another value in the answer was passed over for the one read (its offset is
    /// the repair's): an earlier draft, one in prose when a fenced one exists, one
    /// inside reasoning, or one that is not a `T`.
    SkippedCandidate {
        /// Why it was not read.
        why: String,
    },
}

impl fmt::Display for RepairKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepairKind::Comment => f.write_str("skipped a comment"),
            RepairKind::TrailingComma => f.write_str("dropped a trailing comma"),
            RepairKind::MissingComma => f.write_str("assumed a missing comma"),
            RepairKind::UnquotedKey => f.write_str("read an unquoted key"),
            RepairKind::SingleQuotes => f.write_str("read a single-quoted string"),
            RepairKind::Literal { written, read_as } => {
                write!(f, "read `{written}` as `{read_as}`")
            }
            RepairKind::ControlCharacter => f.write_str("kept a raw control character in a string"),
            RepairKind::InvalidEscape => f.write_str("read an escape JSON does not have"),
            RepairKind::LoneSurrogate => f.write_str("read a lone UTF-16 surrogate as U+FFFD"),
            RepairKind::InnerQuote => f.write_str("kept an unescaped quote inside a string"),
            RepairKind::CurlyQuotes => f.write_str("read a string in curly quotes"),
            RepairKind::ClosedString => f.write_str("closed a string cut off by the end"),
            RepairKind::DroppedIncompleteValue => f.write_str("dropped a value cut off by the end"),
            RepairKind::ClosedContainers { count } => {
                write!(f, "closed {count} container(s) left open at the end")
            }
            RepairKind::SkippedText { what } => write!(f, "skipped {what}"),
            RepairKind::Coerced { from, to } => write!(f, "converted {from} to {to}"),
            RepairKind::Unwrapped { key } => write!(f, "removed the wrapper object `{key}`"),
            RepairKind::RenamedKey { from, to } => write!(f, "read the key `{from}` as `{to}`"),
            RepairKind::SkippedCandidate { why } => write!(f, "passed over {why}"),
        }
    }
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.path, self.kind)
        }
    }
}

/// Why the input is not (or no longer) a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}{}", if path.is_empty() { String::new() } else { format!(" (in `{path}`)") })]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Offset of the offending byte from the start of the stream.
    pub offset: u64,
    /// Where in the document, in wire names (`items[2].title`).
    pub path: String,
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A byte that cannot start or continue anything here.
    Unexpected {
        /// The byte, printable when it is.
        found: u8,
        /// What was expected instead.
        expected: &'static str,
    },
    /// The input ended inside the document.
    UnexpectedEnd {
        /// What was still expected.
        expected: &'static str,
    },
    /// Nothing but whitespace.
    Empty,
    /// More than whitespace after the document.
    TrailingCharacters,
    /// A control character (U+0000 to U+001F) inside a string.
    ControlCharacter,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// An escape that JSON does not have (`\x`, `\u12G4`).
    InvalidEscape,
    /// A `\u` surrogate without its pair.
    LoneSurrogate,
    /// A malformed number (`01`, `1.`, `-`, `1e`).
    InvalidNumber,
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// More input than [`Limits::max_bytes`].
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// A string longer than [`Limits::max_string_bytes`].
    StringTooLong {
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::Unexpected { found, expected } => {
                if found.is_ascii_graphic() {
                    write!(f, "unexpected `{}`, expected {expected}", *found as char)
                } else {
                    write!(f, "unexpected byte 0x{found:02x}, expected {expected}")
                }
            }
            ParseErrorKind::UnexpectedEnd { expected } => {
                write!(f, "the input ended early, expected {expected}")
            }
            ParseErrorKind::Empty => f.write_str("the input holds no JSON value"),
            ParseErrorKind::TrailingCharacters => {
                f.write_str("more input after the end of the JSON value")
            }
            ParseErrorKind::ControlCharacter => {
                f.write_str("a control character inside a string (it must be escaped)")
            }
            ParseErrorKind::InvalidUtf8 => f.write_str("bytes that are not UTF-8"),
            ParseErrorKind::InvalidEscape => f.write_str("an invalid escape sequence"),
            ParseErrorKind::LoneSurrogate => f.write_str("a lone UTF-16 surrogate in a \\u escape"),
            ParseErrorKind::InvalidNumber => f.write_str("a malformed number"),
            ParseErrorKind::TooDeep { limit } => {
                write!(f, "nesting deeper than the limit of {limit}")
            }
            ParseErrorKind::TooLarge { limit } => {
                write!(f, "more than the limit of {limit} bytes")
            }
            ParseErrorKind::StringTooLong { limit } => {
                write!(f, "a string longer than the limit of {limit} bytes")
            }
        }
    }
}

/// Receives the parser's events.
pub trait EventSink {
    /// What the sink may fail with (it stops the parse).
    type Error;
    /// One event at `path` (the path of the value the event concerns).
    fn event(&mut self, path: &[PathSegment], event: Event<'_>) -> Result<(), Self::Error>;
}

impl<F, E> EventSink for F
where
    F: FnMut(&[PathSegment], Event<'_>) -> Result<(), E>,
{
    type Error = E;
    fn event(&mut self, path: &[PathSegment], event: Event<'_>) -> Result<(), E> {
        self(path, event)
    }
}

/// A failure while feeding: the input's or the sink's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedError<E> {
    /// The input is not JSON.
    Parse(ParseError),
    /// The sink refused an event.
    Sink(E),
}

impl<E: fmt::Display> fmt::Display for FeedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedError::Parse(e) => e.fmt(f),
            FeedError::Sink(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for FeedError<E> {}

/// What the parser expects next, outside of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (the root, an array element after `,`, an object value after `:`).
    Value,
    /// A value or `]` (right after `[`).
    ValueOrEndArray,
    /// A key or `}` (right after `{`).
    KeyOrEndObject,
    /// A key (after `,` in an object).
    Key,
    /// `:` after a key.
    Colon,
    /// `,` or the closing bracket of the current container.
    CommaOrEnd,
    /// Whitespace only: the root value is complete.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Object,
    Array { index: usize },
}

/// A token that may span chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    None,
    /// A string, opened with `quote`.
    String {
        key: bool,
        quote: Quote,
    },
    /// Lenient: the bytes of an opening curly quote so far (`matched` of its three).
    CurlyOpen {
        key: bool,
        matched: u8,
    },
    /// Lenient: a quote that may close a value string, or may be text inside it
    /// (`"He said "hi" twice"`); the bytes after it decide. The quote and the
    /// whitespace after it wait in `Parser::pending`.
    AfterQuote {
        quote: Quote,
    },
    Number(NumberState),
    Literal {
        word: &'static [u8],
        matched: u8,
    },
    /// Lenient: an unquoted key.
    BareKey,
    /// Lenient: after `/`, not yet known to be `//` or `/*`.
    CommentStart,
    /// Lenient: inside `// ...` (until a newline) or `/* ... */` (`star`: a `*` was just read).
    Comment {
        block: bool,
        star: bool,
    },
}

/// The quote a string was opened with, which decides what closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Double,
    /// Lenient.
    Single,
    /// Lenient: `“` or `”` (either closes it).
    CurlyDouble,
    /// Lenient: `‘` or `’` (either closes it).
    CurlySingle,
}

impl Quote {
    /// The byte at which a plain run of the string stops to check for its end: the
    /// quote, or the lead byte of the three-byte curly quotes.
    fn stop_byte(self) -> u8 {
        match self {
            Quote::Double => b'"',
            Quote::Single => b'\'',
            Quote::CurlyDouble | Quote::CurlySingle => 0xE2,
        }
    }

    /// Whether the UTF-8 bytes `closing` close a curly-quoted string.
    fn closes_curly(self, closing: &[u8]) -> bool {
        matches!(
            (self, closing),
            (Quote::CurlyDouble, [0xE2, 0x80, 0x9C | 0x9D])
                | (Quote::CurlySingle, [0xE2, 0x80, 0x98 | 0x99])
        )
    }
}

/// Where a number is in `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberState {
    Minus,
    Zero,
    Integer,
    Dot,
    Fraction,
    Exponent,
    ExponentSign,
    ExponentDigits,
}

impl NumberState {
    fn is_complete(self) -> bool {
        matches!(
            self,
            NumberState::Zero
                | NumberState::Integer
                | NumberState::Fraction
                | NumberState::ExponentDigits
        )
    }

    /// The state after `byte`, or `None` when the byte ends the number (or breaks it).
    fn next(self, byte: u8) -> Option<NumberState> {
        use NumberState::*;
        match (self, byte) {
            (Minus, b'0') => Some(Zero),
            (Minus, b'1'..=b'9') => Some(Integer),
            (Integer, b'0'..=b'9') => Some(Integer),
            (Zero | Integer, b'.') => Some(Dot),
            (Zero | Integer | Fraction, b'e' | b'E') => Some(Exponent),
            (Dot | Fraction, b'0'..=b'9') => Some(Fraction),
            (Exponent, b'+' | b'-') => Some(ExponentSign),
            (Exponent | ExponentSign | ExponentDigits, b'0'..=b'9') => Some(ExponentDigits),
            _ => None,
        }
    }
}

/// Escape decoding state inside a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// After `\`.
    Backslash,
    /// Inside `\uXXXX`: the value so far and how many hex digits were read.
    Unicode {
        value: u16,
        digits: u8,
    },
    /// A high surrogate was read; a `\` must follow.
    AwaitLowBackslash {
        high: u16,
    },
    /// A high surrogate and `\`; a `u` must follow.
    AwaitLowU {
        high: u16,
    },
    /// Inside the low surrogate's `\uXXXX`.
    Low {
        high: u16,
        value: u16,
        digits: u8,
    },
}

/// The incremental parser. Feed it chunks with [`Parser::feed`], then call
/// [`Parser::finish`] once the input has ended.
///
/// ```
/// use instructor_core::stream::Parser;
/// use instructor_core::{Event, PathSegment};
///
/// let mut parser = Parser::new();
/// let mut seen = Vec::new();
/// let mut sink = |path: &[PathSegment], event: Event<'_>| {
///     seen.push(format!("{} {event:?}", instructor_core::partial::display_path(path)));
///     Ok::<_, std::convert::Infallible>(())
/// };
/// for chunk in [&b"{\"ti"[..], b"tle\": \"Hel", b"lo\", \"n\": 4", b"2}"] {
///     parser.feed(chunk, &mut sink).unwrap();
/// }
/// parser.finish(&mut sink).unwrap();
/// assert!(seen.contains(&"n Number(\"42\")".to_owned()));
/// ```
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    mode: Mode,
    repairs: Vec<Repair>,
    expect: Expect,
    stack: Vec<Container>,
    path: Vec<PathSegment>,
    /// Key strings of popped path segments, reused so keys allocate once per depth.
    spare_keys: Vec<String>,
    token: Token,
    escape: Escape,
    /// The key being read (its buffer comes from `spare_keys`).
    key: String,
    /// The number being read.
    number: String,
    /// Bytes of a UTF-8 sequence split across chunks.
    utf8: [u8; 4],
    utf8_len: u8,
    /// Stream offset of that sequence's first byte (where an error points).
    utf8_start: u64,
    /// Bytes of the current string (for the length limit).
    string_bytes: usize,
    /// Bytes consumed before the current chunk.
    offset: u64,
    started: bool,
    /// Lenient: a quote (and whitespace) that may yet be text of the string
    /// ([`Token::AfterQuote`]).
    pending: String,
    /// `\u` escapes of lone surrogates read as U+FFFD.
    lone_surrogates: u64,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::with_limits(Limits::default())
    }
}

/// The length of a UTF-8 sequence from its first byte (0 for a continuation or
/// invalid byte).
fn utf8_width(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

fn hex(byte: u8) -> Option<u16> {
    match byte {
        b'0'..=b'9' => Some(u16::from(byte - b'0')),
        b'a'..=b'f' => Some(u16::from(byte - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(byte - b'A' + 10)),
        _ => None,
    }
}

/// Whether `byte` can start a JSON value (lenient spellings included).
fn starts_value(byte: u8) -> bool {
    matches!(
        byte,
        b'{' | b'[' | b'"' | b'\'' | b'-' | b'0'
            ..=b'9' | b't' | b'f' | b'n' | b'T' | b'F' | b'N' | b'u' | 0xE2
    )
}

/// Each byte of a word set to `byte`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The high bit of every zero byte of `word` (the classic bit trick: the lowest marked
/// byte is always a zero byte; above it, a byte can be marked wrongly).
#[inline]
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(splat(0x01)) & !word & splat(0x80)
}

/// The bytes of `word` that end a plain run (`stop`, a backslash, a control
/// character), each marked by its high bit. Each of the three masks marks its first
/// matching byte exactly (the bit tricks can only mark a byte wrongly above a true
/// match), so the lowest bit of the union is the first byte that ends the run.
#[inline]
fn run_ends(word: u64, stop: u8) -> u64 {
    zero_bytes(word ^ splat(stop))
        | zero_bytes(word ^ splat(b'\\'))
        // Bytes below 0x20 (bytes from 0x80 up are never marked).
        | word.wrapping_sub(splat(0x20)) & !word & splat(0x80)
}

/// Where the plain run of a string that starts at `chunk[i]` ends: at the first byte
/// that ends it (`stop`, a backslash, a control character) or at the chunk's end.
///
/// Eight bytes at a time, read straight from the chunk. The last few bytes are read
/// as the chunk's last eight, shifted down past the bytes already scanned: the zero
/// bytes shifted in mark the run's end at or past the chunk's end, which is where it
/// ends when nothing marks it earlier. Only a chunk shorter than a word is copied.
#[inline]
fn plain_end(chunk: &[u8], mut i: usize, stop: u8) -> usize {
    while let Some(bytes) = chunk.get(i..i + 8) {
        let word = u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]));
        let ends = run_ends(word, stop);
        if ends != 0 {
            return i + (ends.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let left = chunk.len().saturating_sub(i);
    if left == 0 {
        return chunk.len();
    }
    let word = match chunk.len().checked_sub(8) {
        // The last eight bytes, of which the first `8 - left` are scanned already.
        Some(last) => {
            let bytes = chunk.get(last..).unwrap_or_default();
            u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8])) >> ((8 - left) * 8)
        }
        None => {
            let mut buffer = [0; 8];
            let rest = chunk.get(i..).unwrap_or_default();
            buffer[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(buffer)
        }
    };
    let ends = run_ends(word, stop);
    (i + (ends.trailing_zeros() / 8) as usize).min(chunk.len())
}

/// The text of a string's plain run. Checked as ASCII first, a few word operations:
/// `str::from_utf8` costs about a hundred instructions on a slice this short (a run
/// ends at every chunk's end), and it was the largest single cost of the engine's
/// step (7% of a 1 MB document fed in 8-byte chunks). A run with a byte from 0x80 up
/// is checked as UTF-8 as before.
#[inline]
#[allow(unsafe_code)]
fn run_text(run: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if run.is_ascii() {
        // SAFETY: every byte of `run` is below 0x80 (just checked), and a sequence of
        // such bytes is valid UTF-8: each is a whole one-byte character.
        Ok(unsafe { std::str::from_utf8_unchecked(run) })
    } else {
        std::str::from_utf8(run)
    }
}

fn is_bare_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'$' | b'-')
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

impl Parser {
    /// A parser with the default [`Limits`].
    pub fn new() -> Self {
        Parser::default()
    }

    /// A parser with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Parser {
            limits,
            mode: Mode::Strict,
            repairs: Vec::new(),
            expect: Expect::Value,
            stack: Vec::new(),
            path: Vec::new(),
            spare_keys: Vec::new(),
            token: Token::None,
            escape: Escape::None,
            key: String::new(),
            number: String::new(),
            utf8: [0; 4],
            utf8_len: 0,
            utf8_start: 0,
            string_bytes: 0,
            offset: 0,
            started: false,
            pending: String::new(),
            lone_surrogates: 0,
        }
    }

    /// A parser in [`Mode::Lenient`] with the given limits.
    pub fn lenient(limits: Limits) -> Self {
        let mut parser = Parser::with_limits(limits);
        parser.mode = Mode::Lenient;
        parser
    }

    /// The repairs made so far (always empty in strict mode).
    pub fn repairs(&self) -> &[Repair] {
        &self.repairs
    }

    /// Takes the repairs made so far.
    pub fn take_repairs(&mut self) -> Vec<Repair> {
        std::mem::take(&mut self.repairs)
    }

    fn lenient_mode(&self) -> bool {
        self.mode == Mode::Lenient
    }

    fn repair(&mut self, kind: RepairKind, at: usize) {
        self.repairs.push(Repair {
            offset: self.offset + at as u64,
            path: crate::partial::display_path(&self.path),
            kind,
        });
    }

    /// How many `\u` escapes of lone UTF-16 surrogates (`"\ud800"`) were read, as
    /// U+FFFD. serde_json refuses them in a value it reads and accepts them in one it
    /// ignores, so a reader that builds values itself asks this to refuse them.
    pub fn lone_surrogates(&self) -> u64 {
        self.lone_surrogates
    }

    /// Whether the root value is complete (only whitespace may follow).
    pub fn is_done(&self) -> bool {
        self.expect == Expect::Done && self.token == Token::None
    }

    /// The path of the value being read.
    pub fn path(&self) -> &[PathSegment] {
        &self.path
    }

    /// Bytes consumed so far.
    pub fn bytes_consumed(&self) -> u64 {
        self.offset
    }

    fn error(&self, kind: ParseErrorKind, at: usize) -> ParseError {
        ParseError {
            kind,
            offset: self.offset + at as u64,
            path: crate::partial::display_path(&self.path),
        }
    }

    /// Parses one more chunk, sending every event it completes to `sink`.
    #[inline]
    pub fn feed<S: EventSink>(
        &mut self,
        chunk: &[u8],
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        if let Some(limit) = self.limits.max_bytes
            && self.offset + chunk.len() as u64 > limit
        {
            let at = limit.saturating_sub(self.offset) as usize;
            return Err(FeedError::Parse(
                self.error(ParseErrorKind::TooLarge { limit }, at),
            ));
        }
        let result = self.run(chunk, sink);
        self.offset += chunk.len() as u64;
        result
    }

    /// The fast way for the most frequent chunk of a stream, one that only continues
    /// the value string being read: when the parser is inside a double-quoted value
    /// string (no escape, no UTF-8 sequence pending) and `chunk` is plain text of it
    /// in whole characters, within the limits, the chunk is consumed and its text
    /// returned. That text is the one fragment [`Parser::feed`] would have sent, at
    /// [`Parser::path`]: the caller sends it to its sink itself. `None` consumes
    /// nothing; the chunk then goes through [`Parser::feed`], which handles every case.
    #[inline]
    pub fn continue_string<'c>(&mut self, chunk: &'c [u8]) -> Option<&'c str> {
        let len = chunk.len();
        let plain_string = matches!(
            self.token,
            Token::String {
                key: false,
                quote: Quote::Double,
            }
        ) && matches!(self.escape, Escape::None)
            && self.utf8_len == 0;
        if !plain_string || len == 0 {
            return None;
        }
        let total = self.offset.checked_add(len as u64)?;
        if self.limits.max_bytes.is_some_and(|limit| total > limit) {
            return None;
        }
        let string_bytes = self.string_bytes.checked_add(len)?;
        if self
            .limits
            .max_string_bytes
            .is_some_and(|limit| string_bytes > limit)
        {
            return None;
        }
        if plain_end(chunk, 0, b'"') != len {
            return None;
        }
        // Whole characters only: a sequence cut at the end waits in the parser.
        let text = run_text(chunk).ok()?;
        self.string_bytes = string_bytes;
        self.offset = total;
        Some(text)
    }

    /// Ends the input: emits a number still open at the root and checks that the
    /// document is complete. In lenient mode a truncated tail is closed instead: an
    /// open string is ended, a value cut short is dropped, open containers are closed.
    pub fn finish<S: EventSink>(&mut self, sink: &mut S) -> Result<(), FeedError<S::Error>> {
        if self.lenient_mode() && self.started && !self.is_done() {
            self.close_tail(sink)?;
        }
        if let Token::Number(state) = self.token {
            if !state.is_complete() {
                return Err(FeedError::Parse(
                    self.error(ParseErrorKind::InvalidNumber, 0),
                ));
            }
            self.end_number(sink)?;
        }
        if matches!(self.token, Token::Comment { block: false, .. }) {
            self.token = Token::None;
        }
        if self.is_done() {
            return Ok(());
        }
        let kind = if !self.started {
            ParseErrorKind::Empty
        } else {
            ParseErrorKind::UnexpectedEnd {
                expected: self.expected_text(),
            }
        };
        Err(FeedError::Parse(self.error(kind, 0)))
    }

    /// Lenient end of input inside the document: finish or drop what is open, then
    /// close the containers.
    fn close_tail<S: EventSink>(&mut self, sink: &mut S) -> Result<(), FeedError<S::Error>> {
        self.utf8_len = 0;
        self.escape = Escape::None;
        match self.token {
            Token::String { key: false, .. } => {
                self.repair(RepairKind::ClosedString, 0);
                self.emit(sink, Event::EndString)?;
                self.value_done();
            }
            Token::AfterQuote { .. } => {
                self.pending.clear();
                self.end_string(false, sink)?;
            }
            // A root number ends with the input, as JSON has it; inside a container
            // the input was cut, and `3` may have been on its way to `34`.
            Token::Number(state) if state.is_complete() && self.stack.is_empty() => {
                self.end_number(sink)?;
            }
            Token::Number(_) | Token::Literal { .. } | Token::CurlyOpen { key: false, .. } => {
                self.repair(RepairKind::DroppedIncompleteValue, 0);
                self.token = Token::None;
                self.drop_member();
            }
            Token::String { key: true, .. }
            | Token::BareKey
            | Token::CurlyOpen { key: true, .. } => {
                self.repair(RepairKind::DroppedIncompleteValue, 0);
                self.token = Token::None;
                self.expect = Expect::CommaOrEnd;
            }
            Token::Comment { .. } | Token::CommentStart => self.token = Token::None,
            Token::None => {}
        }
        // A key without its value, or a member cut before its value.
        if matches!(self.expect, Expect::Colon)
            || (self.expect == Expect::Value
                && matches!(self.stack.last(), Some(Container::Object)))
        {
            self.repair(RepairKind::DroppedIncompleteValue, 0);
            self.drop_member();
        }
        let count = self.stack.len();
        if count > 0 {
            self.repair(RepairKind::ClosedContainers { count }, 0);
        }
        while let Some(container) = self.stack.last().copied() {
            self.close(container, sink)?;
        }
        Ok(())
    }

    /// Forgets the member (or element) whose value never came: its key or index
    /// leaves the path, and the container goes on as if after a complete member.
    fn drop_member(&mut self) {
        match self.stack.last() {
            Some(Container::Object) => {
                if let Some(PathSegment::Key(key)) = self.path.pop() {
                    self.spare_keys.push(key);
                }
                self.expect = Expect::CommaOrEnd;
            }
            Some(Container::Array { .. }) => {
                self.path.pop();
                self.expect = Expect::CommaOrEnd;
            }
            None => self.expect = Expect::Value,
        }
    }

    fn expected_text(&self) -> &'static str {
        match (self.token, self.expect) {
            (Token::String { .. } | Token::CurlyOpen { .. }, _) => "the end of the string",
            (Token::AfterQuote { .. }, _) => "`,` or the end of the container",
            (Token::Literal { .. }, _) => "the rest of the literal",
            (Token::Number(_), _) => "more digits",
            (_, Expect::Value) => "a value",
            (_, Expect::ValueOrEndArray) => "a value or `]`",
            (_, Expect::KeyOrEndObject) => "a key or `}`",
            (_, Expect::Key) => "a key",
            (_, Expect::Colon) => "`:`",
            (_, Expect::CommaOrEnd) => match self.stack.last() {
                Some(Container::Object) => "`,` or `}`",
                _ => "`,` or `]`",
            },
            (_, Expect::Done) => "nothing more",
        }
    }

    fn run<S: EventSink>(&mut self, chunk: &[u8], sink: &mut S) -> Result<(), FeedError<S::Error>> {
        let mut i = 0;
        while i < chunk.len() {
            match self.token {
                Token::String { key, quote } => i = self.string(chunk, i, key, quote, sink)?,
                Token::CurlyOpen { key, matched } => {
                    i = self.curly_open(chunk, i, key, matched, sink)?;
                }
                Token::AfterQuote { quote } => i = self.after_quote(chunk, i, quote, sink)?,
                Token::Number(state) => i = self.number(chunk, i, state, sink)?,
                Token::Literal { word, matched } => {
                    i = self.literal(chunk, i, word, matched, sink)?;
                }
                Token::BareKey => i = self.bare_key(chunk, i, sink)?,
                Token::CommentStart => {
                    match chunk[i] {
                        b'/' => {
                            self.token = Token::Comment {
                                block: false,
                                star: false,
                            }
                        }
                        b'*' => {
                            self.token = Token::Comment {
                                block: true,
                                star: false,
                            }
                        }
                        byte => {
                            return Err(FeedError::Parse(self.error(
                                ParseErrorKind::Unexpected {
                                    found: byte,
                                    expected: "`/` or `*` after `/`",
                                },
                                i,
                            )));
                        }
                    }
                    i += 1;
                }
                Token::Comment { block, star } => i = self.comment(chunk, i, block, star),
                Token::None => {
                    let byte = chunk[i];
                    if is_whitespace(byte) {
                        i += 1;
                        continue;
                    }
                    if byte == b'/' && self.lenient_mode() {
                        self.token = Token::CommentStart;
                        self.repair(RepairKind::Comment, i);
                        i += 1;
                        continue;
                    }
                    if byte == b'#' && self.lenient_mode() {
                        self.token = Token::Comment {
                            block: false,
                            star: false,
                        };
                        self.repair(RepairKind::Comment, i);
                        i += 1;
                        continue;
                    }
                    self.started = true;
                    self.structural(byte, i, sink)?;
                    i += 1;
                }
            }
        }
        Ok(())
    }

    /// Skips comment text; returns where parsing goes on.
    fn comment(&mut self, chunk: &[u8], mut i: usize, block: bool, mut star: bool) -> usize {
        while let Some(&byte) = chunk.get(i) {
            i += 1;
            if !block {
                if byte == b'\n' {
                    self.token = Token::None;
                    return i;
                }
            } else if star && byte == b'/' {
                self.token = Token::None;
                return i;
            } else {
                star = byte == b'*';
            }
        }
        self.token = Token::Comment { block, star };
        i
    }

    /// Reads an unquoted key up to `:` or whitespace.
    fn bare_key<S: EventSink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        sink: &mut S,
    ) -> Result<usize, FeedError<S::Error>> {
        while let Some(&byte) = chunk.get(i) {
            if is_bare_key_byte(byte) {
                self.key.push(byte as char);
                i += 1;
                continue;
            }
            if byte == b':' || is_whitespace(byte) {
                self.token = Token::None;
                self.emit(sink, Event::Key(&self.key))?;
                let key = std::mem::take(&mut self.key);
                self.path.push(PathSegment::Key(key));
                self.expect = Expect::Colon;
                return Ok(i);
            }
            return Err(FeedError::Parse(self.error(
                ParseErrorKind::Unexpected {
                    found: byte,
                    expected: "`:` after a key",
                },
                i,
            )));
        }
        Ok(i)
    }

    fn unexpected<E>(&self, byte: u8, at: usize) -> FeedError<E> {
        FeedError::Parse(self.error(
            ParseErrorKind::Unexpected {
                found: byte,
                expected: self.expected_text(),
            },
            at,
        ))
    }

    /// A byte outside any token: the most frequent ones (a colon, a comma, a key's
    /// quote) here, inlined into the byte loop; the rest in
    /// [`Parser::structural_rest`].
    #[inline(always)]
    fn structural<S: EventSink>(
        &mut self,
        byte: u8,
        at: usize,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        match (self.expect, byte) {
            (Expect::Colon, b':') => {
                self.expect = Expect::Value;
                Ok(())
            }
            (Expect::CommaOrEnd, b',') => match self.stack.last() {
                Some(Container::Object) => {
                    self.expect = Expect::Key;
                    Ok(())
                }
                Some(Container::Array { .. }) => {
                    self.expect = Expect::Value;
                    Ok(())
                }
                None => self.structural_rest(byte, at, sink),
            },
            (Expect::KeyOrEndObject | Expect::Key, b'"') => {
                self.begin_string(true, Quote::Double, sink)
            }
            _ => self.structural_rest(byte, at, sink),
        }
    }

    /// Every byte outside a token (see [`Parser::structural`]).
    fn structural_rest<S: EventSink>(
        &mut self,
        byte: u8,
        at: usize,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        match self.expect {
            Expect::Value | Expect::ValueOrEndArray => {
                if byte == b']' && self.expect == Expect::ValueOrEndArray {
                    return self.close(Container::Array { index: 0 }, sink);
                }
                if byte == b']'
                    && self.lenient_mode()
                    && matches!(self.stack.last(), Some(Container::Array { .. }))
                {
                    self.repair(RepairKind::TrailingComma, at);
                    return self.close(Container::Array { index: 0 }, sink);
                }
                if let Some(Container::Array { index }) = self.stack.last() {
                    self.path.push(PathSegment::Index(*index));
                }
                self.begin_value(byte, at, sink)
            }
            Expect::KeyOrEndObject | Expect::Key => match byte {
                b'"' => self.begin_string(true, Quote::Double, sink),
                b'\'' if self.lenient_mode() => {
                    self.repair(RepairKind::SingleQuotes, at);
                    self.begin_string(true, Quote::Single, sink)
                }
                0xE2 if self.lenient_mode() => {
                    self.token = Token::CurlyOpen {
                        key: true,
                        matched: 1,
                    };
                    Ok(())
                }
                b'}' if self.expect == Expect::KeyOrEndObject => {
                    self.close(Container::Object, sink)
                }
                b'}' if self.lenient_mode() => {
                    self.repair(RepairKind::TrailingComma, at);
                    self.close(Container::Object, sink)
                }
                _ if self.lenient_mode() && is_bare_key_byte(byte) => {
                    self.repair(RepairKind::UnquotedKey, at);
                    self.take_key_buffer();
                    self.key.push(byte as char);
                    self.token = Token::BareKey;
                    Ok(())
                }
                _ => Err(self.unexpected(byte, at)),
            },
            Expect::Colon => match byte {
                b':' => {
                    self.expect = Expect::Value;
                    Ok(())
                }
                _ => Err(self.unexpected(byte, at)),
            },
            Expect::CommaOrEnd => match (byte, self.stack.last().copied()) {
                (b',', Some(Container::Object)) => {
                    self.expect = Expect::Key;
                    Ok(())
                }
                (b',', Some(Container::Array { .. })) => {
                    self.expect = Expect::Value;
                    Ok(())
                }
                (b'}', Some(container @ Container::Object))
                | (b']', Some(container @ Container::Array { .. })) => self.close(container, sink),
                // Lenient: a new member or element where a comma was due.
                (b'"' | b'\'' | 0xE2, Some(Container::Object)) if self.lenient_mode() => {
                    self.repair(RepairKind::MissingComma, at);
                    self.expect = Expect::Key;
                    self.structural_rest(byte, at, sink)
                }
                (_, Some(Container::Array { .. })) if self.lenient_mode() && starts_value(byte) => {
                    self.repair(RepairKind::MissingComma, at);
                    self.expect = Expect::Value;
                    self.structural_rest(byte, at, sink)
                }
                _ => Err(self.unexpected(byte, at)),
            },
            Expect::Done => Err(FeedError::Parse(
                self.error(ParseErrorKind::TrailingCharacters, at),
            )),
        }
    }

    /// Starts a key in a buffer reused from an earlier key.
    fn take_key_buffer(&mut self) {
        let mut key = self.spare_keys.pop().unwrap_or_default();
        key.clear();
        self.key = key;
    }

    fn emit<S: EventSink>(
        &self,
        sink: &mut S,
        event: Event<'_>,
    ) -> Result<(), FeedError<S::Error>> {
        sink.event(&self.path, event).map_err(FeedError::Sink)
    }

    /// The first byte of a value; the value's path is already on `self.path`.
    fn begin_value<S: EventSink>(
        &mut self,
        byte: u8,
        at: usize,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        match byte {
            b'{' | b'[' => {
                if self.stack.len() >= self.limits.max_depth {
                    return Err(FeedError::Parse(self.error(
                        ParseErrorKind::TooDeep {
                            limit: self.limits.max_depth,
                        },
                        at,
                    )));
                }
                if byte == b'{' {
                    self.emit(sink, Event::BeginObject)?;
                    self.stack.push(Container::Object);
                    self.expect = Expect::KeyOrEndObject;
                } else {
                    self.emit(sink, Event::BeginArray)?;
                    self.stack.push(Container::Array { index: 0 });
                    self.expect = Expect::ValueOrEndArray;
                }
                Ok(())
            }
            b'"' => self.begin_string(false, Quote::Double, sink),
            b'\'' if self.lenient_mode() => {
                self.repair(RepairKind::SingleQuotes, at);
                self.begin_string(false, Quote::Single, sink)
            }
            0xE2 if self.lenient_mode() => {
                self.token = Token::CurlyOpen {
                    key: false,
                    matched: 1,
                };
                Ok(())
            }
            b'-' | b'0'..=b'9' => {
                self.number.clear();
                self.number.push(byte as char);
                self.token = Token::Number(match byte {
                    b'-' => NumberState::Minus,
                    b'0' => NumberState::Zero,
                    _ => NumberState::Integer,
                });
                Ok(())
            }
            b't' => self.start_literal(b"true"),
            b'f' => self.start_literal(b"false"),
            b'n' => self.start_literal(b"null"),
            b'T' if self.lenient_mode() => self.start_literal(b"True"),
            b'F' if self.lenient_mode() => self.start_literal(b"False"),
            b'N' if self.lenient_mode() => self.start_literal(b"None"),
            b'I' if self.lenient_mode() => self.start_literal(b"Infinity"),
            b'u' if self.lenient_mode() => self.start_literal(b"undefined"),
            _ => {
                // Reported at the element's path; then the index pushed for it goes,
                // since no value came.
                let error = self.unexpected(byte, at);
                if let Some(Container::Array { .. }) = self.stack.last() {
                    self.path.pop();
                }
                Err(error)
            }
        }
    }

    fn start_literal<E>(&mut self, word: &'static [u8]) -> Result<(), FeedError<E>> {
        self.token = Token::Literal { word, matched: 1 };
        Ok(())
    }

    /// A scalar or container at the current path is complete: pop its path segment
    /// and move on.
    fn value_done(&mut self) {
        self.token = Token::None;
        match self.stack.last_mut() {
            None => self.expect = Expect::Done,
            Some(Container::Array { index }) => {
                *index += 1;
                self.path.pop();
                self.expect = Expect::CommaOrEnd;
            }
            Some(Container::Object) => {
                if let Some(PathSegment::Key(key)) = self.path.pop() {
                    self.spare_keys.push(key);
                }
                self.expect = Expect::CommaOrEnd;
            }
        }
    }

    fn close<S: EventSink>(
        &mut self,
        container: Container,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        self.stack.pop();
        let event = match container {
            Container::Object => Event::EndObject,
            Container::Array { .. } => Event::EndArray,
        };
        self.emit(sink, event)?;
        self.value_done();
        Ok(())
    }

    fn literal<S: EventSink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        word: &'static [u8],
        mut matched: u8,
        sink: &mut S,
    ) -> Result<usize, FeedError<S::Error>> {
        while (matched as usize) < word.len() {
            let Some(&byte) = chunk.get(i) else {
                self.token = Token::Literal { word, matched };
                return Ok(i);
            };
            if word == b"None" && matched == 1 && byte == b'a' {
                return self.literal(chunk, i, b"NaN", matched, sink);
            }
            if byte != word[matched as usize] {
                return Err(FeedError::Parse(self.error(
                    ParseErrorKind::Unexpected {
                        found: byte,
                        expected: "`true`, `false` or `null`",
                    },
                    i,
                )));
            }
            matched += 1;
            i += 1;
        }
        let (event, written, read_as) = match word {
            b"true" => (Event::Bool(true), "", ""),
            b"false" => (Event::Bool(false), "", ""),
            b"null" => (Event::Null, "", ""),
            b"True" => (Event::Bool(true), "True", "true"),
            b"False" => (Event::Bool(false), "False", "false"),
            b"None" => (Event::Null, "None", "null"),
            b"NaN" => (Event::Null, "NaN", "null"),
            b"undefined" => (Event::Null, "undefined", "null"),
            _ => (Event::Null, "Infinity", "null"),
        };
        if !written.is_empty() {
            self.repair(RepairKind::Literal { written, read_as }, i);
        }
        self.emit(sink, event)?;
        self.value_done();
        Ok(i)
    }

    fn number<S: EventSink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        mut state: NumberState,
        sink: &mut S,
    ) -> Result<usize, FeedError<S::Error>> {
        while let Some(&byte) = chunk.get(i) {
            match state.next(byte) {
                Some(next) => {
                    state = next;
                    self.number.push(byte as char);
                    i += 1;
                }
                None => {
                    // The number ends here; the byte belongs to what follows.
                    if !state.is_complete()
                        || matches!(byte, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                    {
                        return Err(FeedError::Parse(
                            self.error(ParseErrorKind::InvalidNumber, i),
                        ));
                    }
                    self.end_number(sink)?;
                    return Ok(i);
                }
            }
        }
        self.token = Token::Number(state);
        Ok(i)
    }

    fn end_number<S: EventSink>(&mut self, sink: &mut S) -> Result<(), FeedError<S::Error>> {
        sink.event(&self.path, Event::Number(&self.number))
            .map_err(FeedError::Sink)?;
        self.value_done();
        Ok(())
    }

    /// Starts a string (a key's buffer, or a value's `BeginString`).
    fn begin_string<S: EventSink>(
        &mut self,
        key: bool,
        quote: Quote,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        if key {
            self.take_key_buffer();
        } else {
            self.emit(sink, Event::BeginString)?;
        }
        self.token = Token::String { key, quote };
        self.string_bytes = 0;
        Ok(())
    }

    /// The rest of an opening curly quote (`“` or `‘`, three bytes from `0xE2`).
    fn curly_open<S: EventSink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        key: bool,
        mut matched: u8,
        sink: &mut S,
    ) -> Result<usize, FeedError<S::Error>> {
        while let Some(&byte) = chunk.get(i) {
            let quote = match (matched, byte) {
                (1, 0x80) => {
                    matched = 2;
                    i += 1;
                    continue;
                }
                (2, 0x9C | 0x9D) => Quote::CurlyDouble,
                (2, 0x98 | 0x99) => Quote::CurlySingle,
                _ => {
                    return Err(FeedError::Parse(self.error(
                        ParseErrorKind::Unexpected {
                            found: byte,
                            expected: "a quote",
                        },
                        i,
                    )));
                }
            };
            self.repair(RepairKind::CurlyQuotes, i);
            self.begin_string(key, quote, sink)?;
            return Ok(i + 1);
        }
        self.token = Token::CurlyOpen { key, matched };
        Ok(i)
    }

    /// A closing quote was read (`text` as written). In lenient mode, a value string
    /// inside a container waits for the next bytes to tell whether the quote ends it.
    fn close_string<S: EventSink>(
        &mut self,
        key: bool,
        quote: Quote,
        text: &str,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        // A root string is never continued: `"Paris" is the answer` is a value and prose.
        if !key && self.lenient_mode() && !self.stack.is_empty() {
            self.pending.clear();
            self.pending.push_str(text);
            self.token = Token::AfterQuote { quote };
            return Ok(());
        }
        self.end_string(key, sink)
    }

    /// After a quote that may end a value string: a newline, a delimiter, another
    /// quote or a comment ends it; other text on the same line means the quote was
    /// text (`"He said "hi" twice"`).
    fn after_quote<S: EventSink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        quote: Quote,
        sink: &mut S,
    ) -> Result<usize, FeedError<S::Error>> {
        while let Some(&byte) = chunk.get(i) {
            if is_whitespace(byte) {
                self.pending.push(byte as char);
                i += 1;
                continue;
            }
            let ends = self.pending.contains(['\n', '\r'])
                || matches!(
                    byte,
                    b',' | b'}'
                        | b']'
                        | b':'
                        | b'"'
                        | b'\''
                        | b'`'
                        | b'/'
                        | b'#'
                        | b'{'
                        | b'['
                        | 0xE2
                );
            let mut pending = std::mem::take(&mut self.pending);
            if ends {
                self.end_string(false, sink)?;
            } else {
                self.repair(RepairKind::InnerQuote, i);
                self.token = Token::String { key: false, quote };
                self.count_string_bytes(pending.len(), i)?;
                self.fragment(&pending, false, sink)?;
            }
            // The buffer is kept for the next quote.
            pending.clear();
            self.pending = pending;
            return Ok(i);
        }
        Ok(i)
    }

    /// Inside a string (value or key) at `chunk[i..]`; returns where parsing goes on.
    fn string<S: EventSink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        key: bool,
        quote: Quote,
        sink: &mut S,
    ) -> Result<usize, FeedError<S::Error>> {
        // Finish a UTF-8 sequence split across chunks (which may close a curly-quoted
        // string), or an escape.
        if self.utf8_len > 0 {
            i = self.continue_utf8(chunk, i, key, sink)?;
            if self.utf8_len > 0 || !matches!(self.token, Token::String { .. }) {
                return Ok(i);
            }
        }
        let stop = quote.stop_byte();
        loop {
            if self.escape != Escape::None {
                i = self.escape(chunk, i, key, sink)?;
                if self.escape != Escape::None {
                    return Ok(i);
                }
            }
            // A run of plain bytes: no quote, no backslash, no control character.
            let start = i;
            i = plain_end(chunk, i, stop);
            if i > start {
                self.plain_run(chunk, start, i, key, sink)?;
                if self.utf8_len > 0 {
                    // The run ended inside a UTF-8 sequence: wait for the next chunk.
                    return Ok(i);
                }
            }
            let Some(&byte) = chunk.get(i) else {
                return Ok(i);
            };
            match byte {
                _ if byte == stop => match quote {
                    Quote::Double => {
                        self.close_string(key, quote, "\"", sink)?;
                        return Ok(i + 1);
                    }
                    Quote::Single => {
                        self.close_string(key, quote, "'", sink)?;
                        return Ok(i + 1);
                    }
                    // The lead byte of some three-byte character: a closing curly
                    // quote, or text.
                    Quote::CurlyDouble | Quote::CurlySingle => {
                        let end = (i + 3).min(chunk.len());
                        let sequence = chunk.get(i..end).unwrap_or_default();
                        if quote.closes_curly(sequence) {
                            let text = std::str::from_utf8(sequence).unwrap_or_default();
                            self.close_string(key, quote, text, sink)?;
                            return Ok(end);
                        }
                        // Text, or a sequence cut by the chunk (kept for the next one).
                        self.plain_run(chunk, i, end, key, sink)?;
                        i = end;
                        if self.utf8_len > 0 {
                            return Ok(i);
                        }
                    }
                },
                b'\\' => {
                    self.escape = Escape::Backslash;
                    i += 1;
                }
                _ if self.lenient_mode() => {
                    // A raw newline or tab inside a string: kept as written.
                    self.repair(RepairKind::ControlCharacter, i);
                    let run = [byte];
                    let text = std::str::from_utf8(&run).unwrap_or_default();
                    self.count_string_bytes(1, i)?;
                    self.fragment(text, key, sink)?;
                    i += 1;
                }
                _ => {
                    return Err(FeedError::Parse(
                        self.error(ParseErrorKind::ControlCharacter, i),
                    ));
                }
            }
        }
    }

    fn count_string_bytes<E>(&mut self, n: usize, at: usize) -> Result<(), FeedError<E>> {
        self.string_bytes += n;
        match self.limits.max_string_bytes {
            Some(limit) if self.string_bytes > limit => Err(FeedError::Parse(
                self.error(ParseErrorKind::StringTooLong { limit }, at),
            )),
            _ => Ok(()),
        }
    }

    /// Plain bytes `chunk[start..end]` of a string: validated as UTF-8 (a sequence cut
    /// at the end is kept for the next chunk) and handed out as one fragment.
    fn plain_run<S: EventSink>(
        &mut self,
        chunk: &[u8],
        start: usize,
        end: usize,
        key: bool,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        self.count_string_bytes(end - start, start)?;
        let run = &chunk[start..end];
        let valid = match run_text(run) {
            Ok(text) => text,
            Err(error) => {
                let good = error.valid_up_to();
                if error.error_len().is_some() {
                    return Err(FeedError::Parse(
                        self.error(ParseErrorKind::InvalidUtf8, start + good),
                    ));
                }
                // A sequence cut by the chunk boundary.
                let tail = &run[good..];
                self.utf8[..tail.len()].copy_from_slice(tail);
                self.utf8_len = tail.len() as u8;
                self.utf8_start = self.offset + (start + good) as u64;
                // `valid_up_to` bytes are valid UTF-8 by definition.
                std::str::from_utf8(&run[..good]).unwrap_or_default()
            }
        };
        self.fragment(valid, key, sink)
    }

    /// Completes a UTF-8 sequence begun in an earlier chunk.
    fn continue_utf8<S: EventSink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        key: bool,
        sink: &mut S,
    ) -> Result<usize, FeedError<S::Error>> {
        let width = utf8_width(self.utf8[0]);
        let invalid = |parser: &Self| {
            FeedError::Parse(ParseError {
                kind: ParseErrorKind::InvalidUtf8,
                offset: parser.utf8_start,
                path: crate::partial::display_path(&parser.path),
            })
        };
        while (self.utf8_len as usize) < width {
            let Some(&byte) = chunk.get(i) else {
                return Ok(i);
            };
            if byte & 0xC0 != 0x80 {
                return Err(invalid(self));
            }
            self.utf8[self.utf8_len as usize] = byte;
            self.utf8_len += 1;
            i += 1;
            self.count_string_bytes(1, i)?;
        }
        let bytes = self.utf8;
        let len = self.utf8_len as usize;
        self.utf8_len = 0;
        let sequence = bytes.get(..len).unwrap_or_default();
        match std::str::from_utf8(sequence) {
            Ok(text) => {
                match self.token {
                    Token::String { quote, .. } if quote.closes_curly(sequence) => {
                        self.string_bytes = self.string_bytes.saturating_sub(len);
                        self.close_string(key, quote, text, sink)?;
                    }
                    _ => self.fragment(text, key, sink)?,
                }
                Ok(i)
            }
            Err(_) => Err(invalid(self)),
        }
    }

    fn fragment<S: EventSink>(
        &mut self,
        text: &str,
        key: bool,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        if text.is_empty() {
            return Ok(());
        }
        if key {
            self.key.push_str(text);
            Ok(())
        } else {
            self.emit(sink, Event::StringFragment(text))
        }
    }

    fn push_char<S: EventSink>(
        &mut self,
        c: char,
        key: bool,
        at: usize,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        let mut buffer = [0u8; 4];
        let text = c.encode_utf8(&mut buffer);
        self.count_string_bytes(text.len(), at)?;
        self.fragment(text, key, sink)
    }

    /// Decodes an escape that may span chunks.
    fn escape<S: EventSink>(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        key: bool,
        sink: &mut S,
    ) -> Result<usize, FeedError<S::Error>> {
        while let Some(&byte) = chunk.get(i) {
            let invalid = |parser: &Self, kind| Err(FeedError::Parse(parser.error(kind, i)));
            match self.escape {
                Escape::None => return Ok(i),
                Escape::Backslash => {
                    let decoded = match byte {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.escape = Escape::Unicode {
                                value: 0,
                                digits: 0,
                            };
                            i += 1;
                            continue;
                        }
                        b'\'' if self.lenient_mode() => {
                            self.repair(RepairKind::InvalidEscape, i);
                            '\''
                        }
                        _ if self.lenient_mode() => {
                            // Kept as written (`\d` in a regex stays `\d`): the byte is
                            // read again as text of the string.
                            self.repair(RepairKind::InvalidEscape, i);
                            self.escape = Escape::None;
                            self.push_char('\\', key, i, sink)?;
                            return Ok(i);
                        }
                        _ => return invalid(self, ParseErrorKind::InvalidEscape),
                    };
                    self.escape = Escape::None;
                    self.push_char(decoded, key, i, sink)?;
                    return Ok(i + 1);
                }
                Escape::Unicode { value, digits } | Escape::Low { value, digits, .. } => {
                    let Some(digit) = hex(byte) else {
                        return invalid(self, ParseErrorKind::InvalidEscape);
                    };
                    let value = value << 4 | digit;
                    let digits = digits + 1;
                    let high = match self.escape {
                        Escape::Low { high, .. } => Some(high),
                        _ => None,
                    };
                    i += 1;
                    if digits < 4 {
                        self.escape = match high {
                            Some(high) => Escape::Low {
                                high,
                                value,
                                digits,
                            },
                            None => Escape::Unicode { value, digits },
                        };
                        continue;
                    }
                    match (high, value) {
                        (None, 0xD800..=0xDBFF) => {
                            self.escape = Escape::AwaitLowBackslash { high: value };
                        }
                        (None, 0xDC00..=0xDFFF) => {
                            self.escape = Escape::None;
                            self.lone_surrogate(key, i, sink)?;
                            return Ok(i);
                        }
                        (None, code) => {
                            self.escape = Escape::None;
                            let c = char::from_u32(u32::from(code)).unwrap_or('\u{FFFD}');
                            self.push_char(c, key, i, sink)?;
                            return Ok(i);
                        }
                        (Some(high), 0xDC00..=0xDFFF) => {
                            self.escape = Escape::None;
                            let code = 0x10000
                                + ((u32::from(high) - 0xD800) << 10)
                                + (u32::from(value) - 0xDC00);
                            let c = char::from_u32(code).unwrap_or('\u{FFFD}');
                            self.push_char(c, key, i, sink)?;
                            return Ok(i);
                        }
                        // The high surrogate was alone; this escape stands for itself.
                        (Some(_), 0xD800..=0xDBFF) => {
                            self.lone_surrogate(key, i, sink)?;
                            self.escape = Escape::AwaitLowBackslash { high: value };
                        }
                        (Some(_), code) => {
                            self.escape = Escape::None;
                            self.lone_surrogate(key, i, sink)?;
                            let c = char::from_u32(u32::from(code)).unwrap_or('\u{FFFD}');
                            self.push_char(c, key, i, sink)?;
                            return Ok(i);
                        }
                    }
                }
                Escape::AwaitLowBackslash { high } => {
                    if byte != b'\\' {
                        // A high surrogate alone; the byte is read again as text.
                        self.escape = Escape::None;
                        self.lone_surrogate(key, i, sink)?;
                        return Ok(i);
                    }
                    self.escape = Escape::AwaitLowU { high };
                    i += 1;
                }
                Escape::AwaitLowU { high } => {
                    if byte != b'u' {
                        // A high surrogate alone, then another escape (`\ud800\n`).
                        self.lone_surrogate(key, i, sink)?;
                        self.escape = Escape::Backslash;
                        continue;
                    }
                    self.escape = Escape::Low {
                        high,
                        value: 0,
                        digits: 0,
                    };
                    i += 1;
                }
            }
        }
        Ok(i)
    }

    /// A `\u` escape of a lone surrogate: read as U+FFFD, counted (and a repair in
    /// lenient mode). serde_json does the same for a value it ignores and refuses one
    /// it reads; the parser cannot tell which, so the reader decides.
    fn lone_surrogate<S: EventSink>(
        &mut self,
        key: bool,
        at: usize,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        self.lone_surrogates += 1;
        if self.lenient_mode() {
            self.repair(RepairKind::LoneSurrogate, at);
        }
        self.push_char('\u{FFFD}', key, at, sink)
    }

    fn end_string<S: EventSink>(
        &mut self,
        key: bool,
        sink: &mut S,
    ) -> Result<(), FeedError<S::Error>> {
        self.token = Token::None;
        if key {
            self.emit(sink, Event::Key(&self.key))?;
            let key = std::mem::take(&mut self.key);
            self.path.push(PathSegment::Key(key));
            self.expect = Expect::Colon;
            Ok(())
        } else {
            self.emit(sink, Event::EndString)?;
            self.value_done();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Limits, Parser, plain_end, run_text};
    use crate::partial::{Event, PathSegment};
    use proptest::prelude::*;

    /// What a parser reports for `chunks`: each event (with its path) and each chunk's
    /// outcome, taking [`Parser::continue_string`] first when `fast`.
    fn reading(chunks: &[&[u8]], limits: Limits, fast: bool) -> Vec<String> {
        let mut parser = Parser::with_limits(limits);
        let mut seen = Vec::new();
        for chunk in chunks {
            let mut sink = |path: &[PathSegment], event: Event<'_>| {
                seen.push(format!("{path:?} {event:?}"));
                Ok::<(), ()>(())
            };
            let taken = if fast {
                parser.continue_string(chunk)
            } else {
                None
            };
            let outcome = match taken {
                Some(text) => {
                    sink(parser.path(), Event::StringFragment(text)).map_err(super::FeedError::Sink)
                }
                None => parser.feed(chunk, &mut sink),
            };
            let failed = outcome.is_err();
            seen.push(format!("{outcome:?} at {}", parser.bytes_consumed()));
            if failed {
                break;
            }
        }
        seen
    }

    /// The plain run's end, byte by byte.
    fn reference(chunk: &[u8], i: usize, stop: u8) -> usize {
        chunk[i..]
            .iter()
            .position(|&byte| byte == stop || byte == b'\\' || byte < 0x20)
            .map_or(chunk.len(), |at| i + at)
    }

    proptest! {
        #[test]
        fn a_plain_run_ends_where_the_bytewise_scan_ends(
            // Bytes that end runs, and bytes next to them in value (borrows in the bit
            // tricks), often.
            chunk in proptest::collection::vec(
                prop_oneof![
                    Just(b'"'), Just(b'\''), Just(b'\\'), Just(0x1f), Just(0x20), Just(0x00),
                    Just(0x01), Just(0x21), Just(0x23), Just(0x5b), Just(0x5d), Just(0x7f),
                    Just(0x80), Just(0xe2), Just(0xff), any::<u8>(),
                ],
                0..40,
            ),
            start in 0usize..40,
            stop in prop_oneof![Just(b'"'), Just(b'\''), Just(0xe2u8)],
        ) {
            let start = start.min(chunk.len());
            prop_assert_eq!(plain_end(&chunk, start, stop), reference(&chunk, start, stop));
        }

        #[test]
        fn the_fast_way_for_a_strings_next_chunk_reads_as_feed_does(
            // Documents with long plain runs, escapes, multi-byte characters, keys and
            // a wrong byte now and then, cut anywhere, under limits that cut in.
            pieces in proptest::collection::vec(
                prop::sample::select(vec![
                    "{\"title\": \"", "\", \"body\": \"", "plain text of a string ",
                    "abcdefgh", "\\n", "\\\"", "\\u00e9", "é", "—", "\"}", "\"]",
                    "[\"", "\", \"", "\u{1}", "\"key", "x",
                ]),
                0..30,
            ),
            cuts in proptest::collection::vec(0usize..400, 0..60),
            max_string_bytes in prop::option::of(0usize..40),
            max_bytes in prop::option::of(0u64..400),
        ) {
            let text = pieces.concat();
            let bytes = text.as_bytes();
            let mut points: Vec<usize> = cuts
                .iter()
                .map(|cut| cut % (bytes.len() + 1))
                .chain([0, bytes.len()])
                .collect();
            points.sort_unstable();
            points.dedup();
            let chunks: Vec<&[u8]> = points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
            let limits = Limits {
                max_string_bytes,
                max_bytes,
                ..Limits::default()
            };
            prop_assert_eq!(reading(&chunks, limits, true), reading(&chunks, limits, false));
        }

        #[test]
        fn a_runs_text_is_what_from_utf8_reads(
            // ASCII, the bytes around 0x80, and the bytes of multi-byte characters
            // (whole, cut and out of order).
            bytes in proptest::collection::vec(
                prop_oneof![
                    8 => 0x20u8..0x7f,
                    1 => prop::sample::select(vec![0x7fu8, 0x80, 0xc3, 0xa9, 0xe2, 0x94, 0xf0, 0x9f, 0xff]),
                ],
                0..40,
            ),
        ) {
            let expected = std::str::from_utf8(&bytes);
            let got = run_text(&bytes);
            prop_assert_eq!(got.ok(), expected.ok());
            prop_assert_eq!(
                got.err().map(|e| (e.valid_up_to(), e.error_len())),
                expected.err().map(|e| (e.valid_up_to(), e.error_len()))
            );
        }
    }
}
