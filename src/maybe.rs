//! [`Maybe<T>`]: a value, or the model's statement that the text holds none.

use crate::{Context, ValidationError, ValidationErrors};

/// A value of `T` found in the text, or the model's statement that there is none, with
/// its reason: extraction from text that may not hold the thing asked for, without
/// the model inventing one to fill a required field.
///
/// The schema tells the model both shapes (`result` with the value and `error: false`,
/// or `result: null`, `error: true` and a `message`); an answer mixing them (a value
/// *and* an error, neither, or an error without a message) is re-asked, naming what is
/// wrong. Streams like any derived type (`.partial()` shows `result` filling in).
///
/// ```
/// use instructor::prelude::*;
/// use instructor::Maybe;
/// use instructor::providers::openai::{OpenAi, OpenAiConfig};
/// use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
///
/// #[derive(Debug, Deserialize, Extract)]
/// struct Person {
///     name: String,
///     age: u8,
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let server = FakeProvider::start().await;
/// server.push(
///     ChatCompletion::tool_call(
///         "Maybe_Person",
///         r#"{"result":null,"error":true,"message":"The text names no person."}"#,
///     )
///     .reply(),
/// );
/// let client = Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())))
///     .with_model("gpt-4o-mini");
/// let person = client
///     .extract::<Maybe<Person>>()
///     .user("The weather was fine all week.")
///     .await
///     .unwrap();
/// assert_eq!(person.into_result().unwrap_err(), "The text names no person.");
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, serde::Deserialize, instructor_macros::Extract)]
#[extract(crate = "crate", validate = one_shape)]
pub struct Maybe<T> {
    /// The value, when the text holds one; null when it does not.
    pub result: Option<T>,
    /// True when the text holds no such value: then `result` is null and `message`
    /// says why.
    #[serde(default)]
    pub error: bool,
    /// Why there is no value (only when `error` is true).
    #[serde(default)]
    pub message: Option<String>,
}

/// Exactly one of the two shapes.
fn one_shape<T>(maybe: &Maybe<T>, _: &Context) -> Result<(), ValidationErrors> {
    let problem = match (&maybe.result, maybe.error, &maybe.message) {
        (Some(_), false, _) => return Ok(()),
        (None, true, Some(message)) if !message.trim().is_empty() => return Ok(()),
        (Some(_), true, _) => {
            "`result` holds a value while `error` is true: give the value with `error: false`, or no value"
        }
        (None, false, _) => {
            "`result` is null while `error` is false: give the value, or set `error: true` with a `message`"
        }
        (None, true, _) => "`error` is true without a `message` saying why there is no value",
    };
    Err(ValidationError::new(problem).into())
}

impl<T> Maybe<T> {
    /// A value.
    pub fn found(value: T) -> Self {
        Maybe {
            result: Some(value),
            error: false,
            message: None,
        }
    }

    /// No value, and why.
    pub fn missing(message: impl Into<String>) -> Self {
        Maybe {
            result: None,
            error: true,
            message: Some(message.into()),
        }
    }

    /// Whether there is a value.
    pub fn is_found(&self) -> bool {
        self.result.is_some()
    }

    /// The value, if any.
    pub fn into_option(self) -> Option<T> {
        self.result
    }

    /// The value, or the model's reason why there is none.
    ///
    /// # Errors
    ///
    /// The message when there is no value (empty if the model gave none, which
    /// validation does not let through an extraction).
    pub fn into_result(self) -> Result<T, String> {
        match self.result {
            Some(value) => Ok(value),
            None => Err(self.message.unwrap_or_default()),
        }
    }
}

impl<T> From<Maybe<T>> for Option<T> {
    fn from(maybe: Maybe<T>) -> Self {
        maybe.result
    }
}
