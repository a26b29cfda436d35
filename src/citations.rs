//! Citations: quotes the model copies from a source text, checked against it.
//!
//! A [`Quote`] field must occur in the source given in the extraction's context (a
//! [`Source`] value, or the variable `source`); one that does not is re-asked, naming
//! the quote. [`Quotes`] keeps only the quotes that occur and drops the others instead
//! of re-asking. A quote that occurs knows where: [`Quote::span`] is its byte range in
//! the source (found once, when the value is validated).
//!
//! The match is exact, or exact up to whitespace (a line break in the source where the
//! model wrote a space); nothing else is forgiven, so a quote never claims words the
//! source does not have.

use crate::{
    Context, Event, ExtractSchema, HasPartial, PartialError, PathSegment, Schema, SchemaGenerator,
    Scratch, Stop, Validate, ValidationErrors, WirePath,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ops::Range;
use std::sync::OnceLock;

/// The text quotes are checked against, put in the context:
/// `.context(Context::new().with(Source::new(text)))`. Without one, the variable
/// `source` of the context is used (`.context(json!({"source": text}))`, which
/// templates can show to the model too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source(pub String);

impl Source {
    /// The source text.
    pub fn new(text: impl Into<String>) -> Self {
        Source(text.into())
    }
}

/// The source text of `context`, if it has one.
fn source_of(context: &Context) -> Option<&str> {
    match context.get::<Source>() {
        Some(source) => Some(&source.0),
        None => context.var("source").and_then(|value| value.as_str()),
    }
}

/// A quote the model copied from the source text. It must occur there: one that does
/// not is re-asked. Once validated, [`span`](Self::span) says where it is.
///
/// ```
/// use instructor::citations::{Quote, Source};
/// use instructor::{Context, Extract};
///
/// #[derive(Debug, serde::Deserialize, instructor::Extract)]
/// struct Fact {
///     statement: String,
///     quote: Quote,
/// }
///
/// let context = Context::new().with(Source::new("Ada was born in London in 1815."));
/// let fact: Fact = serde_json::from_str(
///     r#"{"statement": "Ada's birthplace", "quote": "born in London"}"#,
/// ).unwrap();
/// fact.validate(&context).unwrap();
/// assert_eq!(fact.quote.span(), Some(8..22));
///
/// let invented: Fact = serde_json::from_str(
///     r#"{"statement": "Ada's school", "quote": "studied at Oxford"}"#,
/// ).unwrap();
/// let errors = invented.validate(&context).unwrap_err();
/// assert!(errors.to_string().starts_with("quote: this quote is not in the source"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Quote {
    text: String,
    span: OnceLock<Range<usize>>,
}

impl Quote {
    /// A quote of `text` (not yet checked).
    pub fn new(text: impl Into<String>) -> Self {
        Quote {
            text: text.into(),
            span: OnceLock::new(),
        }
    }

    /// The quote as the model wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Where the quote stands in the source (byte offsets), once it was validated
    /// against one and found.
    pub fn span(&self) -> Option<Range<usize>> {
        self.span.get().cloned()
    }

    /// Looks the quote up in `source`, keeping where it was found; whether it was.
    pub fn locate(&self, source: &str) -> bool {
        if self.span.get().is_some() {
            return true;
        }
        match find(source, &self.text) {
            Some(span) => {
                let _ = self.span.set(span);
                true
            }
            None => false,
        }
    }
}

impl std::fmt::Debug for Quote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quote")
            .field("text", &self.text)
            .field("span", &self.span.get())
            .finish()
    }
}

impl<'de> Deserialize<'de> for Quote {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Quote::new)
    }
}

impl Serialize for Quote {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl ExtractSchema for Quote {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::string()
            .with_description("An exact quote from the source text, copied character for character")
    }
}

/// A quote streams as the text it is: the partial is the string growing.
impl HasPartial for Quote {
    type Partial = String;

    fn apply_new(
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Option<String>, PartialError> {
        String::apply_new(path, event, scratch)
    }

    fn apply_existing(
        partial: &mut String,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<bool, PartialError> {
        String::apply_existing(partial, path, event, scratch)
    }
}

impl Validate for Quote {
    fn validate_into(&self, context: &Context, path: &mut WirePath, errors: &mut ValidationErrors) {
        match source_of(context) {
            None => errors.extend_at(path.segments(), no_source()),
            Some(source) if !self.locate(source) => errors.push(
                path.segments(),
                format!(
                    "this quote is not in the source text; copy the words exactly as they stand there: {:?}",
                    self.text
                ),
            ),
            Some(_) => {}
        }
    }
}

/// No source to check against: the caller's mistake, which a re-ask cannot fix.
fn no_source() -> ValidationErrors {
    Stop::new(
        "quotes cannot be checked: the context has no source text (add `Source::new(text)` or the variable `source`)",
    )
    .into()
}

/// Quotes from the source text, where a quote that does not occur there is dropped
/// (not re-asked): iterating gives the quotes found, each with its
/// [`span`](Quote::span); [`dropped`](Self::dropped) the others. Both are known once
/// the value is validated (an extraction validates it before returning it). When no
/// quote at all is in the source, the answer is unsupported and re-asked.
///
/// ```
/// use instructor::citations::{Quotes, Source};
/// use instructor::{Context, Extract};
///
/// #[derive(Debug, serde::Deserialize, instructor::Extract)]
/// struct Answer {
///     answer: String,
///     quotes: Quotes,
/// }
///
/// let context = Context::new().with_var("source", "The bridge opened in 1932. It is 503 m long.");
/// let answer: Answer = serde_json::from_str(
///     r#"{"answer": "1932", "quotes": ["opened in 1932", "opened in 1931"]}"#,
/// ).unwrap();
/// answer.validate(&context).unwrap();
/// let found: Vec<_> = answer.quotes.iter().map(|q| (q.text(), q.span())).collect();
/// assert_eq!(found, [("opened in 1932", Some(11..25))]);
/// assert_eq!(answer.quotes.dropped().count(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Quotes {
    all: Vec<Quote>,
    /// Set once the quotes were looked up in a source.
    checked: OnceLock<()>,
}

impl Quotes {
    /// The quotes found in the source (all of them before validation).
    pub fn iter(&self) -> impl Iterator<Item = &Quote> {
        self.all
            .iter()
            .filter(|quote| quote.span.get().is_some() || !self.checked())
    }

    /// The quotes that were not found in the source, dropped.
    pub fn dropped(&self) -> impl Iterator<Item = &Quote> {
        self.all
            .iter()
            .filter(|quote| self.checked() && quote.span.get().is_none())
    }

    /// How many quotes were found.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether no quote was found.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the quotes were looked up in a source: before that every quote counts.
    fn checked(&self) -> bool {
        self.checked.get().is_some()
    }
}

impl<'de> Deserialize<'de> for Quotes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<Quote>::deserialize(deserializer).map(|all| Quotes {
            all,
            checked: OnceLock::new(),
        })
    }
}

/// The quotes found (all of them before validation).
impl Serialize for Quotes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl ExtractSchema for Quotes {
    fn schema(generator: &mut SchemaGenerator) -> Schema {
        Vec::<Quote>::schema(generator).with_description(
            "Exact quotes from the source text that support the answer, each copied character for character",
        )
    }
}

impl HasPartial for Quotes {
    type Partial = <Vec<String> as HasPartial>::Partial;

    fn apply_new(
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<Option<Self::Partial>, PartialError> {
        Vec::<String>::apply_new(path, event, scratch)
    }

    fn apply_existing(
        partial: &mut Self::Partial,
        path: &[PathSegment],
        event: &Event<'_>,
        scratch: &mut Scratch,
    ) -> Result<bool, PartialError> {
        Vec::<String>::apply_existing(partial, path, event, scratch)
    }
}

impl Validate for Quotes {
    fn validate_into(&self, context: &Context, path: &mut WirePath, errors: &mut ValidationErrors) {
        let Some(source) = source_of(context) else {
            errors.extend_at(path.segments(), no_source());
            return;
        };
        let found = self.all.iter().filter(|quote| quote.locate(source)).count();
        let _ = self.checked.set(());
        // Dropping every quote would leave the answer unsupported: that is re-asked.
        if found == 0 && !self.all.is_empty() {
            errors.push(
                path.segments(),
                "none of these quotes is in the source text; copy the words exactly as they stand there",
            );
        }
    }
}

/// Where `quote` stands in `source`: exactly, or up to whitespace (any run of
/// whitespace in one matching any run in the other). An empty quote is nowhere.
fn find(source: &str, quote: &str) -> Option<Range<usize>> {
    let quote = quote.trim();
    if quote.is_empty() {
        return None;
    }
    if let Some(start) = source.find(quote) {
        return Some(start..start + quote.len());
    }
    let words: Vec<&str> = quote.split_whitespace().collect();
    let first = words.first()?;
    let mut from = 0;
    while let Some(offset) = source.get(from..)?.find(first) {
        let start = from + offset;
        if let Some(end) = words_from(source, start, &words) {
            return Some(start..end);
        }
        from = start + first.len();
    }
    None
}

/// The end of `words` read from `start` of `source`, whitespace between them.
fn words_from(source: &str, start: usize, words: &[&str]) -> Option<usize> {
    let mut at = start;
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            let rest = source.get(at..)?;
            let gap = rest.len() - rest.trim_start().len();
            if gap == 0 {
                return None;
            }
            at += gap;
        }
        if !source.get(at..)?.starts_with(word) {
            return None;
        }
        at += word.len();
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn quotes_are_found_exactly_or_up_to_whitespace_and_nothing_else() {
        let source = "Ada Lovelace was born\nin London, in 1815.";
        assert_eq!(find(source, "Ada Lovelace"), Some(0..12));
        assert_eq!(find(source, "born in London"), Some(17..31));
        assert_eq!(find(source, "  born   in\tLondon "), Some(17..31));
        assert_eq!(find(source, "born in Paris"), None);
        assert_eq!(find(source, "bornin London"), None);
        assert_eq!(find(source, ""), None);
        assert_eq!(find("ééé é", "é é"), Some(4..9));
    }
}
