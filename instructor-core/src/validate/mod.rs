//! Validation: garde rules, custom validators and async validators, with errors
//! addressed by wire-name field paths so a re-ask can tell the model what to fix.

mod context;
mod llm;
pub mod rules;

use crate::path::{PathSegment, WirePath};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, LinkedList, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use context::{AttemptInfo, Context, IntoContext};
pub use llm::LlmCheck;
pub(crate) use llm::PendingChecks;

/// One failed rule: where (in wire names) and what is wrong, phrased for the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Path from the root in wire names (`addresses[0].zip`); the root for the whole
    /// value.
    pub path: WirePath,
    /// What is wrong, meant to be read by the model in a re-ask.
    pub message: String,
}

impl ValidationError {
    /// An error about the value itself (a custom validator prefixes the path later).
    pub fn new(message: impl Into<String>) -> Self {
        ValidationError {
            path: WirePath::root(),
            message: message.into(),
        }
    }

    /// An error about a sub-path of the validated value.
    pub fn at(path: impl Into<WirePath>, message: impl Into<String>) -> Self {
        ValidationError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The path as text: `addresses[0].zip`.
    pub fn path_string(&self) -> String {
        self.path.to_string()
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_root() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl From<String> for ValidationError {
    fn from(message: String) -> Self {
        ValidationError::new(message)
    }
}

impl From<&str> for ValidationError {
    fn from(message: &str) -> Self {
        ValidationError::new(message)
    }
}

/// Every failed rule of one value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors {
    errors: Vec<ValidationError>,
    /// A stop and fixes, rare: boxed so that errors (and `Error`) stay small.
    marks: Option<Box<Marks>>,
}

/// What validators asked for beside their errors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Marks {
    /// The error that ends the extraction without another attempt, if a validator
    /// returned a [`Stop`] (also among `errors`).
    stop: Option<ValidationError>,
    /// Replacements validators offered (an LLM validator's fixed value), by path, as
    /// JSON text.
    fixes: Vec<(WirePath, String)>,
}

/// What a validator (or a hook, [`crate::client::Hooks::stop_when`]) returns to end the
/// extraction at once, with no re-ask: the answer is wrong in a way another attempt
/// cannot fix (the source has no such data, a policy forbids it, the budget is better
/// spent elsewhere). The extraction ends with `Error::Stopped`, whose reason says who
/// stopped it, where and why.
///
/// ```
/// use instructor_core::validate::{Context, Stop, ValidationErrors};
///
/// fn known_customer(id: &String, _: &Context) -> Result<(), ValidationErrors> {
///     if id.starts_with("cus_") {
///         Ok(())
///     } else {
///         Err(Stop::new("no customer id in the text: asking again will not find one").into())
///     }
/// }
/// let errors = known_customer(&"x".to_owned(), &Context::new()).expect_err("stops");
/// assert!(errors.stop_reason().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// Why there is no point in another attempt.
    pub message: String,
}

impl Stop {
    /// A stop, with why.
    pub fn new(message: impl Into<String>) -> Self {
        Stop {
            message: message.into(),
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<Stop> for ValidationErrors {
    fn from(stop: Stop) -> Self {
        let error = ValidationError::new(stop.message);
        ValidationErrors {
            errors: vec![error.clone()],
            marks: Some(Box::new(Marks {
                stop: Some(error),
                fixes: Vec::new(),
            })),
        }
    }
}

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        ValidationErrors::default()
    }

    /// Adds an error at `path` (absolute).
    pub fn push(&mut self, path: &[PathSegment], message: impl Into<String>) {
        self.errors
            .push(ValidationError::at(WirePath::from(path), message));
    }

    /// Adds errors reported relative to `prefix` (by a custom validator).
    pub fn extend_at(&mut self, prefix: &[PathSegment], errors: ValidationErrors) {
        if let Some(found) = errors.marks {
            let marks = self.marks.get_or_insert_with(Box::default);
            if let Some(mut stop) = found.stop
                && marks.stop.is_none()
            {
                stop.path = WirePath::from(prefix).join(&stop.path);
                marks.stop = Some(stop);
            }
            for (path, fixed) in found.fixes {
                marks
                    .fixes
                    .push((WirePath::from(prefix).join(&path), fixed));
            }
        }
        for mut error in errors.errors {
            error.path = WirePath::from(prefix).join(&error.path);
            self.errors.push(error);
        }
    }

    /// Whether there is no error.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, in the order they were found.
    pub fn errors(&self) -> &[ValidationError] {
        &self.errors
    }

    /// These errors, with `fixed` offered as the corrected value (at the root of what
    /// was validated: the field, for a field's validator). When every error of an
    /// answer has a fix, the extraction puts the fixes in the answer and, if the
    /// result passes the type's rules, returns it instead of re-asking.
    pub fn with_fix(mut self, fixed: serde_json::Value) -> Self {
        self.marks
            .get_or_insert_with(Box::default)
            .fixes
            .push((WirePath::root(), fixed.to_string()));
        self
    }

    /// The fixes, by path (as JSON text), when every error is covered by one (a fix at
    /// a path covers the errors at and under it); `None` otherwise.
    pub fn fixes(&self) -> Option<&[(WirePath, String)]> {
        let fixes = &self.marks.as_ref()?.fixes;
        let covered = |error: &ValidationError| {
            fixes
                .iter()
                .any(|(path, _)| error.path.segments().starts_with(path.segments()))
        };
        (!fixes.is_empty() && self.errors.iter().all(covered)).then_some(&fixes[..])
    }

    /// The error of a validator that returned a [`Stop`] (the first, with its path),
    /// if one did: the extraction ends without another attempt.
    pub fn stop_reason(&self) -> Option<&ValidationError> {
        self.marks.as_ref()?.stop.as_ref()
    }

    /// `Ok(())` when empty.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<ValidationError> for ValidationErrors {
    fn from(error: ValidationError) -> Self {
        ValidationErrors {
            errors: vec![error],
            marks: None,
        }
    }
}

impl From<String> for ValidationErrors {
    fn from(message: String) -> Self {
        ValidationError::new(message).into()
    }
}

impl From<&str> for ValidationErrors {
    fn from(message: &str) -> Self {
        ValidationError::new(message).into()
    }
}

impl IntoIterator for ValidationErrors {
    type Item = ValidationError;
    type IntoIter = std::vec::IntoIter<ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(f, &self.errors)
    }
}

/// A list of errors as the model reads them in a re-ask: one `path: message` a line.
pub(crate) fn write_lines<E: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    errors: &[E],
) -> fmt::Result {
    for (i, error) in errors.iter().enumerate() {
        if i > 0 {
            f.write_str("\n")?;
        }
        write!(f, "{error}")?;
    }
    Ok(())
}

impl std::error::Error for ValidationErrors {}

/// Runs the validation rules of a value and of everything inside it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of an extracted type: it has no validation",
    label = "no `Validate` for this type",
    note = "derive `Extract` for it, or give the field `#[extract(schema_with = path)]` or `#[extract(schemars)]`"
)]
///
/// Implemented by the derive (garde rules and `#[extract(validate = ...)]`) and by
/// containers, which descend into their elements; leaves have no rules of their own.
pub trait Validate {
    /// Whether [`validate_into`](Validate::validate_into) can record anything at all:
    /// `false` for a type with no rules anywhere in it (numbers, strings, booleans, and
    /// an `Option`, a list or a map of them), so that a struct, a list or a map skips
    /// it without building its path. `true` unless an impl says otherwise, which is
    /// always correct.
    const HAS_RULES: bool = true;

    /// Checks `self`, which sits at `path`, and records failures in `errors`.
    fn validate_into(&self, context: &Context, path: &mut WirePath, errors: &mut ValidationErrors);
}

macro_rules! no_rules {
    ($($t:ty),* $(,)?) => {$(
        impl Validate for $t {
            const HAS_RULES: bool = false;

            fn validate_into(&self, _: &Context, _: &mut WirePath, _: &mut ValidationErrors) {}
        }
    )*};
}
no_rules!(
    String, str, char, bool, (), i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize,
    f32, f64, serde_json::Value, serde_json::Map<String, serde_json::Value>,
    std::num::NonZeroU8, std::num::NonZeroU16, std::num::NonZeroU32, std::num::NonZeroU64,
    std::num::NonZeroUsize,
);
#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> Validate for chrono::DateTime<Tz> {
    const HAS_RULES: bool = false;

    fn validate_into(&self, _: &Context, _: &mut WirePath, _: &mut ValidationErrors) {}
}
#[cfg(feature = "chrono")]
no_rules!(chrono::NaiveDate, chrono::NaiveTime, chrono::NaiveDateTime);
#[cfg(feature = "time")]
no_rules!(
    time::Date,
    time::Time,
    time::PrimitiveDateTime,
    time::OffsetDateTime
);
#[cfg(feature = "uuid")]
no_rules!(uuid::Uuid);
#[cfg(feature = "url")]
no_rules!(url::Url);
#[cfg(feature = "rust_decimal")]
no_rules!(rust_decimal::Decimal);

impl<T: Validate> Validate for Option<T> {
    const HAS_RULES: bool = T::HAS_RULES;

    fn validate_into(&self, context: &Context, path: &mut WirePath, errors: &mut ValidationErrors) {
        if let Some(value) = self {
            value.validate_into(context, path, errors);
        }
    }
}

macro_rules! wrapper {
    ($($w:ident),*) => {$(
        impl<T: Validate + ?Sized> Validate for $w<T> {
            const HAS_RULES: bool = T::HAS_RULES;

            fn validate_into(&self, context: &Context, path: &mut WirePath, errors: &mut ValidationErrors) {
                (**self).validate_into(context, path, errors);
            }
        }
    )*};
}
wrapper!(Box, Arc);

fn validate_items<'a, T: Validate + 'a>(
    items: impl IntoIterator<Item = &'a T>,
    context: &Context,
    path: &mut WirePath,
    errors: &mut ValidationErrors,
) {
    if !T::HAS_RULES {
        return;
    }
    for (index, item) in items.into_iter().enumerate() {
        path.push(PathSegment::Index(index));
        item.validate_into(context, path, errors);
        path.pop();
    }
}

macro_rules! list {
    ($($t:ty => [$($g:tt)*]),* $(,)?) => {$(
        impl<$($g)*> Validate for $t {
            const HAS_RULES: bool = T::HAS_RULES;

            fn validate_into(&self, context: &Context, path: &mut WirePath, errors: &mut ValidationErrors) {
                validate_items(self.iter(), context, path, errors);
            }
        }
    )*};
}
list!(
    Vec<T> => [T: Validate],
    VecDeque<T> => [T: Validate],
    LinkedList<T> => [T: Validate],
    BTreeSet<T> => [T: Validate],
    HashSet<T, S> => [T: Validate, S],
    [T] => [T: Validate],
    [T; N] => [T: Validate, const N: usize],
);

fn validate_entries<'a, K: AsRef<str> + 'a, V: Validate + 'a>(
    entries: impl IntoIterator<Item = (&'a K, &'a V)>,
    context: &Context,
    path: &mut WirePath,
    errors: &mut ValidationErrors,
) {
    if !V::HAS_RULES {
        return;
    }
    for (key, value) in entries {
        path.push(PathSegment::Key(key.as_ref().to_owned()));
        value.validate_into(context, path, errors);
        path.pop();
    }
}

macro_rules! map {
    ($($t:ty => [$($g:tt)*]),* $(,)?) => {$(
        impl<$($g)*> Validate for $t {
            const HAS_RULES: bool = V::HAS_RULES;

            fn validate_into(&self, context: &Context, path: &mut WirePath, errors: &mut ValidationErrors) {
                validate_entries(self.iter(), context, path, errors);
            }
        }
    )*};
}
map!(
    HashMap<K, V, S> => [K: AsRef<str>, V: Validate, S],
    BTreeMap<K, V> => [K: AsRef<str>, V: Validate],
    indexmap::IndexMap<K, V, S> => [K: AsRef<str>, V: Validate, S],
);

/// A future returned by an async validator.
pub type ValidationFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), ValidationErrors>> + Send + 'a>>;

/// A validator that may await, such as one that asks an LLM whether a field is
/// acceptable. Runs after the synchronous rules pass; its errors feed the re-ask just
/// like theirs.
///
/// ```
/// use instructor_core::validate::{AsyncValidator, Context, ValidationErrors, ValidationFuture};
///
/// struct NotEmpty;
/// impl AsyncValidator<String> for NotEmpty {
///     fn validate<'a>(&'a self, value: &'a String, _: &'a Context) -> ValidationFuture<'a> {
///         Box::pin(async move {
///             if value.is_empty() { Err("must not be empty".into()) } else { Ok(()) }
///         })
///     }
/// }
/// ```
pub trait AsyncValidator<T: ?Sized>: Send + Sync {
    /// Checks `value`; errors are relative to the value's root.
    fn validate<'a>(&'a self, value: &'a T, context: &'a Context) -> ValidationFuture<'a>;
}

impl<T, F, Fut> AsyncValidator<T> for F
where
    T: ?Sized + Sync,
    F: Fn(&T, &Context) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), ValidationErrors>> + Send + 'static,
{
    fn validate<'a>(&'a self, value: &'a T, context: &'a Context) -> ValidationFuture<'a> {
        Box::pin(self(value, context))
    }
}

/// Runs the synchronous rules of `value`, then (only if they pass: the cheap checks
/// first) every async validator at once, collecting every error in the validators'
/// order.
pub async fn validate_all<T: crate::Extract>(
    value: &T,
    context: &Context,
    validators: &[Arc<dyn AsyncValidator<T>>],
) -> Result<(), ValidationErrors> {
    value.validate(context)?;
    let mut errors = ValidationErrors::new();
    let checks = validators
        .iter()
        .map(|validator| validator.validate(value, context));
    for found in futures_util::future::join_all(checks).await {
        if let Err(found) = found {
            errors.extend_at(&[], found);
        }
    }
    errors.into_result()
}

/// An async validator of one field of `T`: `validator` sees the field (`project`
/// picks it), and its errors are filed under the field's wire name, so that the re-ask
/// names the field.
///
/// ```
/// use instructor_core::validate::{Context, ValidationErrors, field};
///
/// struct Post { title: String }
/// let checked = field("title", |post: &Post| &post.title, |title: &String, _: &Context| {
///     let empty = title.is_empty();
///     async move { if empty { Err(ValidationErrors::from("must not be empty")) } else { Ok(()) } }
/// });
/// # let _ = checked;
/// ```
pub fn field<T: ?Sized, F: ?Sized, V>(
    name: impl Into<String>,
    project: fn(&T) -> &F,
    validator: V,
) -> FieldValidator<T, F, V>
where
    V: AsyncValidator<F>,
{
    FieldValidator {
        name: name.into(),
        project,
        validator,
    }
}

/// An async validator of one field; see [`field`].
pub struct FieldValidator<T: ?Sized, F: ?Sized, V> {
    name: String,
    project: fn(&T) -> &F,
    validator: V,
}

impl<T, F, V> AsyncValidator<T> for FieldValidator<T, F, V>
where
    T: ?Sized + Sync,
    F: ?Sized + Sync,
    V: AsyncValidator<F>,
{
    fn validate<'a>(&'a self, value: &'a T, context: &'a Context) -> ValidationFuture<'a> {
        let check = self.validator.validate((self.project)(value), context);
        Box::pin(async move {
            check.await.map_err(|found| {
                let mut errors = ValidationErrors::new();
                errors.extend_at(&[PathSegment::Key(self.name.clone())], found);
                errors
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value with a rule: rejects odd numbers.
    struct Even(u32);

    impl Validate for Even {
        fn validate_into(&self, _: &Context, path: &mut WirePath, errors: &mut ValidationErrors) {
            if self.0 % 2 == 1 {
                errors.push(path, format!("{} is odd", self.0));
            }
        }
    }

    #[test]
    fn types_without_rules_say_so_and_containers_follow_their_items() {
        const { assert!(!String::HAS_RULES) };
        const { assert!(!<Option<Vec<Box<u8>>>>::HAS_RULES) };
        const { assert!(!<HashMap<String, Vec<f64>>>::HAS_RULES) };
        const { assert!(!<[bool]>::HAS_RULES) };
        const { assert!(Even::HAS_RULES) };
        const { assert!(<Vec<Option<Even>>>::HAS_RULES) };
        const { assert!(<BTreeMap<String, Arc<[Even; 2]>>>::HAS_RULES) };
        // An impl that says nothing is assumed to have rules.
        const { assert!(crate::client::DynamicValue::HAS_RULES) };
    }

    #[test]
    fn rules_inside_containers_still_run_at_their_paths() {
        let value: BTreeMap<String, Vec<Option<Even>>> = BTreeMap::from([
            ("a".to_owned(), vec![Some(Even(2)), None, Some(Even(3))]),
            ("b".to_owned(), vec![Some(Even(5))]),
        ]);
        let mut errors = ValidationErrors::new();
        value.validate_into(&Context::default(), &mut WirePath::root(), &mut errors);
        let lines: Vec<String> = errors.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(lines, ["a[2]: 3 is odd", "b[0]: 5 is odd"]);

        // A map of values without rules is not walked; nothing to report either way.
        let plain: HashMap<String, Vec<String>> =
            HashMap::from([("k".to_owned(), vec!["v".to_owned()])]);
        let mut errors = ValidationErrors::new();
        plain.validate_into(&Context::default(), &mut WirePath::root(), &mut errors);
        assert!(errors.into_result().is_ok());
    }
}
