//! The garde rules we understand, each with its two faces: the schema keyword the model
//! sees and the check that runs on the answer. The derive calls these; they are public
//! so that hand-written `Extract` impls can use them too.
//!
//! Semantics follow garde's: `length` counts bytes for strings by default (`chars`
//! and `bytes` modes are available), items for lists and entries for maps; `range` is
//! inclusive; `alphanumeric` is Unicode-aware. A rule on an `Option` applies to the
//! value when present.

use super::ValidationErrors;
use crate::partial::PathSegment;
use crate::schema::{AdditionalProperties, Bound, Schema, SchemaKind};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, LinkedList, VecDeque};
use std::sync::OnceLock;

/// How a string's length is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthMode {
    /// garde's default: bytes for strings, items for collections.
    Simple,
    /// UTF-8 bytes.
    Bytes,
    /// Unicode scalar values (what JSON Schema's `minLength` counts).
    Chars,
}

/// A value with a length (strings, lists, maps, and `Option`s of those).
#[diagnostic::on_unimplemented(
    message = "`length` needs a string, a list or a map; `{Self}` has no length",
    label = "the field the `length` rule is on"
)]
pub trait HasLength {
    /// The length in `mode`, or `None` when there is no value to check.
    fn length(&self, mode: LengthMode) -> Option<usize>;
}

fn str_length(s: &str, mode: LengthMode) -> usize {
    match mode {
        LengthMode::Chars => s.chars().count(),
        LengthMode::Simple | LengthMode::Bytes => s.len(),
    }
}

impl HasLength for String {
    fn length(&self, mode: LengthMode) -> Option<usize> {
        Some(str_length(self, mode))
    }
}
impl HasLength for str {
    fn length(&self, mode: LengthMode) -> Option<usize> {
        Some(str_length(self, mode))
    }
}
impl<T: HasLength + ?Sized> HasLength for &T {
    fn length(&self, mode: LengthMode) -> Option<usize> {
        (**self).length(mode)
    }
}
impl<T: HasLength + ?Sized> HasLength for Box<T> {
    fn length(&self, mode: LengthMode) -> Option<usize> {
        (**self).length(mode)
    }
}
impl<T: HasLength> HasLength for Option<T> {
    fn length(&self, mode: LengthMode) -> Option<usize> {
        self.as_ref().and_then(|v| v.length(mode))
    }
}
macro_rules! collection_length {
    ($($t:ty => [$($g:tt)*]),* $(,)?) => {$(
        impl<$($g)*> HasLength for $t {
            fn length(&self, _: LengthMode) -> Option<usize> {
                Some(self.len())
            }
        }
    )*};
}
collection_length!(
    Vec<T> => [T],
    VecDeque<T> => [T],
    LinkedList<T> => [T],
    BTreeSet<T> => [T],
    HashSet<T, S> => [T, S],
    BTreeMap<K, V> => [K, V],
    HashMap<K, V, S> => [K, V, S],
    indexmap::IndexMap<K, V, S> => [K, V, S],
    [T] => [T],
);
impl<T, const N: usize> HasLength for [T; N] {
    fn length(&self, _: LengthMode) -> Option<usize> {
        Some(N)
    }
}

/// Checks a `length(min, max)` rule.
pub fn length<T: HasLength + ?Sized>(
    value: &T,
    mode: LengthMode,
    min: Option<usize>,
    max: Option<usize>,
    path: &[PathSegment],
    errors: &mut ValidationErrors,
) {
    let Some(length) = value.length(mode) else {
        return;
    };
    let describe = |bound: &str, n: usize| match mode {
        LengthMode::Chars => format!("must be {bound} {n} characters long"),
        LengthMode::Bytes => format!("must be {bound} {n} bytes long"),
        LengthMode::Simple => format!("must have a length of {bound} {n}"),
    };
    if let Some(min) = min.filter(|min| length < *min) {
        errors.push(
            path,
            format!("{} (it has {length})", describe("at least", min)),
        );
    }
    if let Some(max) = max.filter(|max| length > *max) {
        errors.push(
            path,
            format!("{} (it has {length})", describe("at most", max)),
        );
    }
}

/// Puts a `length` rule into the schema: `minLength`/`maxLength` on strings,
/// `minItems`/`maxItems` on lists, `minProperties`/`maxProperties` on maps.
pub fn schema_length(schema: &mut Schema, min: Option<usize>, max: Option<usize>) {
    let (min, max) = (min.map(|v| v as u64), max.map(|v| v as u64));
    match &mut schema.innermost_mut().kind {
        SchemaKind::String(rules) => {
            rules.min_length = max_of(rules.min_length, min);
            rules.max_length = min_of(rules.max_length, max);
        }
        SchemaKind::Array(array) => {
            array.min_items = max_of(array.min_items, min);
            array.max_items = min_of(array.max_items, max);
        }
        SchemaKind::Object(object)
            if !matches!(object.additional, AdditionalProperties::Denied) =>
        {
            object.min_properties = max_of(object.min_properties, min);
            object.max_properties = min_of(object.max_properties, max);
        }
        _ => {}
    }
}

fn max_of(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_of(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A number that a `range` rule can bound (numbers, and `Option`s of numbers).
#[diagnostic::on_unimplemented(
    message = "`range` needs a number; `{Self}` is not one",
    label = "the field the `range` rule is on"
)]
pub trait RangeValue {
    /// The value as an exact bound, or `None` when absent.
    fn range_value(&self) -> Option<Bound>;
}

/// Converts a number into the schema's exact representation.
#[diagnostic::on_unimplemented(
    message = "a `range` bound must be a number, not `{Self}`",
    label = "write an integer or float literal here"
)]
pub trait ToBound {
    /// The bound.
    fn to_bound(self) -> Bound;
}

/// A rule's bound, whatever numeric type the attribute wrote it in: compared exactly
/// with the value, never cast (a `max = 1000` on a `u8` must not wrap to 232).
pub fn bound<B: ToBound>(value: B) -> Bound {
    value.to_bound()
}

macro_rules! int_range {
    ($($t:ty),*) => {$(
        impl ToBound for $t {
            #[allow(clippy::cast_lossless, clippy::unnecessary_cast)]
            fn to_bound(self) -> Bound { Bound::Int(self as i128) }
        }
    )*};
}
int_range!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, usize);

impl ToBound for u128 {
    fn to_bound(self) -> Bound {
        i128::try_from(self).map_or(Bound::UInt(self), Bound::Int)
    }
}

impl ToBound for f32 {
    fn to_bound(self) -> Bound {
        Bound::Float(f64::from(self))
    }
}

impl ToBound for f64 {
    fn to_bound(self) -> Bound {
        Bound::Float(self)
    }
}

macro_rules! range_value {
    ($($t:ty),*) => {$(
        impl RangeValue for $t {
            fn range_value(&self) -> Option<Bound> { Some(self.to_bound()) }
        }
    )*};
}
range_value!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);

impl<T: RangeValue> RangeValue for Option<T> {
    fn range_value(&self) -> Option<Bound> {
        self.as_ref().and_then(RangeValue::range_value)
    }
}

impl<T: RangeValue + ?Sized> RangeValue for Box<T> {
    fn range_value(&self) -> Option<Bound> {
        (**self).range_value()
    }
}

/// Checks a `range(min, max)` rule (inclusive bounds).
pub fn range<T: RangeValue + ?Sized>(
    value: &T,
    min: Option<Bound>,
    max: Option<Bound>,
    path: &[PathSegment],
    errors: &mut ValidationErrors,
) {
    let Some(value) = value.range_value() else {
        return;
    };
    if let Some(min) = min.filter(|min| value.cmp_exact(*min).is_lt()) {
        errors.push(path, format!("must be at least {min} (it is {value})"));
    }
    if let Some(max) = max.filter(|max| value.cmp_exact(*max).is_gt()) {
        errors.push(path, format!("must be at most {max} (it is {value})"));
    }
}

/// Puts a `range` rule into the schema as `minimum`/`maximum`, keeping the tighter of
/// the rule and the type's own bounds.
pub fn schema_range(schema: &mut Schema, min: Option<Bound>, max: Option<Bound>) {
    if let SchemaKind::Integer(rules) | SchemaKind::Number(rules) = &mut schema.innermost_mut().kind
    {
        if let Some(min) = min {
            rules.minimum = Some(match rules.minimum {
                Some(existing) if existing.cmp_exact(min).is_gt() => existing,
                _ => min,
            });
        }
        if let Some(max) = max {
            rules.maximum = Some(match rules.maximum {
                Some(existing) if existing.cmp_exact(max).is_lt() => existing,
                _ => max,
            });
        }
    }
}

/// A value that string rules apply to.
#[diagnostic::on_unimplemented(
    message = "this rule needs a string; `{Self}` is not one",
    label = "the field the rule is on"
)]
pub trait AsStr {
    /// The string, or `None` when absent.
    fn as_str_opt(&self) -> Option<&str>;
}
impl AsStr for String {
    fn as_str_opt(&self) -> Option<&str> {
        Some(self)
    }
}
impl AsStr for str {
    fn as_str_opt(&self) -> Option<&str> {
        Some(self)
    }
}
impl<T: AsStr + ?Sized> AsStr for Box<T> {
    fn as_str_opt(&self) -> Option<&str> {
        (**self).as_str_opt()
    }
}
impl<T: AsStr + ?Sized> AsStr for &T {
    fn as_str_opt(&self) -> Option<&str> {
        (**self).as_str_opt()
    }
}
impl<T: AsStr> AsStr for Option<T> {
    fn as_str_opt(&self) -> Option<&str> {
        self.as_ref().and_then(AsStr::as_str_opt)
    }
}

/// The text rules that take no argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRule {
    /// Only ASCII characters.
    Ascii,
    /// Only alphanumeric characters (Unicode letters and digits).
    Alphanumeric,
    /// An e-mail address.
    Email,
    /// A URL.
    Url,
    /// An IPv4 or IPv6 address.
    Ip,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
}

/// Checks a [`TextRule`].
pub fn text<T: AsStr + ?Sized>(
    value: &T,
    rule: TextRule,
    path: &[PathSegment],
    errors: &mut ValidationErrors,
) {
    let Some(s) = value.as_str_opt() else {
        return;
    };
    let message = match rule {
        TextRule::Ascii if !s.is_ascii() => "must contain only ASCII characters".to_owned(),
        TextRule::Alphanumeric if !s.chars().all(char::is_alphanumeric) => {
            "must contain only letters and digits".to_owned()
        }
        TextRule::Email => match check_email(s) {
            Ok(()) => return,
            Err(reason) => format!("must be an e-mail address ({reason})"),
        },
        TextRule::Url => match check_url(s) {
            Ok(()) => return,
            Err(reason) => format!("must be a URL ({reason})"),
        },
        TextRule::Ip if s.parse::<std::net::IpAddr>().is_err() => {
            "must be an IPv4 or IPv6 address".to_owned()
        }
        TextRule::Ipv4 if s.parse::<std::net::Ipv4Addr>().is_err() => {
            "must be an IPv4 address".to_owned()
        }
        TextRule::Ipv6 if s.parse::<std::net::Ipv6Addr>().is_err() => {
            "must be an IPv6 address".to_owned()
        }
        _ => return,
    };
    errors.push(path, message);
}

#[cfg(feature = "garde")]
fn check_email(s: &str) -> Result<(), String> {
    garde::rules::email::parse_email(s).map_err(|e| e.to_string())
}

#[cfg(not(feature = "garde"))]
fn check_email(s: &str) -> Result<(), String> {
    match s.split_once('@') {
        Some((user, domain)) if !user.is_empty() && domain.contains('.') => Ok(()),
        _ => Err("no user@domain".to_owned()),
    }
}

#[cfg(feature = "garde")]
fn check_url(s: &str) -> Result<(), String> {
    garde::rules::url::apply(&s, ()).map_err(|e| e.to_string())
}

#[cfg(not(feature = "garde"))]
fn check_url(s: &str) -> Result<(), String> {
    match s.split_once("://") {
        Some((scheme, rest)) if !scheme.is_empty() && !rest.is_empty() => Ok(()),
        _ => Err("no scheme://".to_owned()),
    }
}

/// Puts a [`TextRule`] into the schema (`format` or `pattern`).
pub fn schema_text(schema: &mut Schema, rule: TextRule) {
    if let SchemaKind::String(rules) = &mut schema.innermost_mut().kind {
        match rule {
            TextRule::Email => rules.format = Some("email".to_owned()),
            TextRule::Url => rules.format = Some("uri".to_owned()),
            TextRule::Ascii => set_pattern(rules, "^[\\x00-\\x7F]*$".to_owned()),
            TextRule::Alphanumeric => set_pattern(rules, "^[\\p{L}\\p{N}]*$".to_owned()),
            TextRule::Ipv4 => rules.format = Some("ipv4".to_owned()),
            TextRule::Ipv6 => rules.format = Some("ipv6".to_owned()),
            TextRule::Ip => {}
        }
    }
    if rule == TextRule::Ip {
        // JSON Schema names only the two families separately: say it in words.
        let note = "an IPv4 or IPv6 address";
        schema.description = Some(match schema.description.take() {
            Some(text) => format!("{text} ({note})"),
            None => note.to_owned(),
        });
    }
}

/// Checks a `required` rule: the `Option` must hold a value.
pub fn required<T>(value: &Option<T>, path: &[PathSegment], errors: &mut ValidationErrors) {
    if value.is_none() {
        errors.push(path, "is required");
    }
}

/// Puts a `required` rule into the schema: the value may not be `null`.
pub fn schema_required(schema: &mut Schema) {
    if let SchemaKind::Nullable(inner) = &mut schema.kind {
        let inner = std::mem::take(&mut **inner);
        let annotations = std::mem::take(schema);
        *schema = Schema {
            kind: inner.kind,
            title: annotations.title.or(inner.title),
            description: annotations.description.or(inner.description),
            examples: if annotations.examples.is_empty() {
                inner.examples
            } else {
                annotations.examples
            },
            default: annotations.default.or(inner.default),
        };
    }
}

fn set_pattern(rules: &mut crate::schema::StringRules, pattern: String) {
    // JSON Schema has one `pattern` per node; the first rule wins the keyword and the
    // others still run as validation.
    if rules.pattern.is_none() {
        rules.pattern = Some(pattern);
    }
}

/// Where a substring must appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affix {
    /// Anywhere (`contains`).
    Contains,
    /// At the start (`prefix`).
    Prefix,
    /// At the end (`suffix`).
    Suffix,
}

/// Checks `contains`, `prefix` or `suffix`.
pub fn affix<T: AsStr + ?Sized>(
    value: &T,
    kind: Affix,
    needle: &str,
    path: &[PathSegment],
    errors: &mut ValidationErrors,
) {
    let Some(s) = value.as_str_opt() else {
        return;
    };
    let (ok, what) = match kind {
        Affix::Contains => (s.contains(needle), "contain"),
        Affix::Prefix => (s.starts_with(needle), "start with"),
        Affix::Suffix => (s.ends_with(needle), "end with"),
    };
    if !ok {
        errors.push(path, format!("must {what} {needle:?}"));
    }
}

/// Puts `contains`/`prefix`/`suffix` into the schema as a `pattern`.
pub fn schema_affix(schema: &mut Schema, kind: Affix, needle: &str) {
    if let SchemaKind::String(rules) = &mut schema.innermost_mut().kind {
        let escaped = escape_regex(needle);
        let pattern = match kind {
            Affix::Contains => escaped,
            Affix::Prefix => format!("^{escaped}"),
            Affix::Suffix => format!("{escaped}$"),
        };
        set_pattern(rules, pattern);
    }
}

fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$/-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A regular expression compiled on first use and kept for the program's lifetime.
#[derive(Debug)]
pub struct CachedRegex {
    source: &'static str,
    #[cfg(feature = "garde")]
    compiled: OnceLock<Result<regex::Regex, String>>,
    #[cfg(not(feature = "garde"))]
    compiled: OnceLock<()>,
}

impl CachedRegex {
    /// A pattern, not compiled yet.
    pub const fn new(source: &'static str) -> Self {
        CachedRegex {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// The pattern's source.
    pub fn source(&self) -> &'static str {
        self.source
    }

    #[cfg(feature = "garde")]
    fn is_match(&self, s: &str) -> Result<bool, String> {
        let compiled = self
            .compiled
            .get_or_init(|| regex::Regex::new(self.source).map_err(|e| e.to_string()));
        match compiled {
            Ok(regex) => Ok(regex.is_match(s)),
            Err(e) => Err(e.clone()),
        }
    }

    #[cfg(not(feature = "garde"))]
    fn is_match(&self, _: &str) -> Result<bool, String> {
        let _ = &self.compiled;
        Err("pattern rules need the `garde` feature".to_owned())
    }
}

/// Checks a `pattern` rule.
pub fn pattern<T: AsStr + ?Sized>(
    value: &T,
    regex: &CachedRegex,
    path: &[PathSegment],
    errors: &mut ValidationErrors,
) {
    let Some(s) = value.as_str_opt() else {
        return;
    };
    match regex.is_match(s) {
        Ok(true) => {}
        Ok(false) => errors.push(path, format!("must match the pattern {}", regex.source())),
        Err(e) => errors.push(path, format!("pattern {} is invalid: {e}", regex.source())),
    }
}

/// Puts a `pattern` rule into the schema.
pub fn schema_pattern(schema: &mut Schema, source: &str) {
    if let SchemaKind::String(rules) = &mut schema.innermost_mut().kind {
        set_pattern(rules, source.to_owned());
    }
}

/// The items of a list, for `inner(...)` rules.
#[diagnostic::on_unimplemented(
    message = "`inner(...)` needs a list or a map; `{Self}` has no items",
    label = "the field the `inner` rule is on"
)]
pub trait Inner {
    /// The element type.
    type Item;
    /// Calls `f` with each element and its path segment.
    fn for_each_inner(&self, f: &mut dyn FnMut(PathSegment, &Self::Item));
}

macro_rules! inner_list {
    ($($t:ty => [$($g:tt)*]),* $(,)?) => {$(
        impl<$($g)*> Inner for $t {
            type Item = T;
            fn for_each_inner(&self, f: &mut dyn FnMut(PathSegment, &T)) {
                for (index, item) in self.iter().enumerate() {
                    f(PathSegment::Index(index), item);
                }
            }
        }
    )*};
}
inner_list!(
    Vec<T> => [T],
    VecDeque<T> => [T],
    LinkedList<T> => [T],
    BTreeSet<T> => [T],
    HashSet<T, S> => [T, S],
    [T] => [T],
);

impl<T, const N: usize> Inner for [T; N] {
    type Item = T;
    fn for_each_inner(&self, f: &mut dyn FnMut(PathSegment, &T)) {
        for (index, item) in self.iter().enumerate() {
            f(PathSegment::Index(index), item);
        }
    }
}

impl<T: Inner> Inner for Option<T> {
    type Item = T::Item;
    fn for_each_inner(&self, f: &mut dyn FnMut(PathSegment, &T::Item)) {
        if let Some(inner) = self {
            inner.for_each_inner(f);
        }
    }
}

impl<K: AsRef<str>, V, S> Inner for HashMap<K, V, S> {
    type Item = V;
    fn for_each_inner(&self, f: &mut dyn FnMut(PathSegment, &V)) {
        for (key, value) in self {
            f(PathSegment::Key(key.as_ref().to_owned()), value);
        }
    }
}

impl<K: AsRef<str>, V, S> Inner for indexmap::IndexMap<K, V, S> {
    type Item = V;
    fn for_each_inner(&self, f: &mut dyn FnMut(PathSegment, &V)) {
        for (key, value) in self {
            f(PathSegment::Key(key.as_ref().to_owned()), value);
        }
    }
}

impl<K: AsRef<str>, V> Inner for BTreeMap<K, V> {
    type Item = V;
    fn for_each_inner(&self, f: &mut dyn FnMut(PathSegment, &V)) {
        for (key, value) in self {
            f(PathSegment::Key(key.as_ref().to_owned()), value);
        }
    }
}

/// The schema node that `inner(...)` rules constrain: the items of a list or the
/// values of a map.
pub fn schema_inner(schema: &mut Schema) -> Option<&mut Schema> {
    match &mut schema.innermost_mut().kind {
        SchemaKind::Array(array) => Some(array.items.innermost_mut()),
        SchemaKind::Object(object) => match &mut object.additional {
            AdditionalProperties::Schema(values) => Some(values.innermost_mut()),
            _ => None,
        },
        _ => None,
    }
}
